public import Foundation
import TandemCore
import TandemFeatures
import TandemLakehouse
public import TandemLearning

extension InferencePipeline {
    /// Ranks a file of requests, one JSON object per line (`{"query", "candidates", "at"}`, docs/data-contract.md),
    /// writing one ranking a line to `sink`, block by block; a line that is not a request, or longer than a JSON
    /// line may be, stops it with an error naming the file and the line.
    public func rankLines(of path: String, into sink: FileHandle) throws {
        let reader = try LineReader(path: path, missing: "give --input a file of requests, one JSON object a line")
        var out = JSONText(capacity: 1 << 16)
        var parser = StrictJSONObjectParser(keys: ["query", "candidates", "at"])
        try reader.forEachBlock(longLine: { long in
            throw Failure(
                .invalidInput,
                "\(path):\(long.number): the request is \(long.length) bytes, longer than the "
                    + "\(BoundedFile.describe(bytes: InputLimits.jsonLineBytes)) a line may hold; split its candidates "
                    + "over several requests")
        }) { buffer, ranges, first, _ in
            for (k, range) in ranges.enumerated() {
                let line = UnsafeBufferPointer(rebasing: buffer[range])
                guard let request = Request.parse(line, parser: &parser) else {
                    throw Failure(
                        .invalidInput,
                        "\(path):\(first + k): not a request; write {\"query\": \"…\", \"candidates\": [\"url\", …]}")
                }
                try rank(request).write(into: &out)
            }
            sink.write(Data(out.bytes))
            out.removeAll()
        }
    }
}
