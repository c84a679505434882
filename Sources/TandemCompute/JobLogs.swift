import Foundation

/// Copies what a log file gained since the last call to stdout.
public final class LogFollower {
    public let path: String
    public private(set) var offset: UInt64 = 0

    public init(path: String) { self.path = path }

    /// Writes what the file gained to stdout.
    public func drain() {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        let data = handle.readDataToEndOfFile()
        offset += UInt64(data.count)
        if !data.isEmpty { FileHandle.standardOutput.write(data) }
    }
}

/// The job log folder: `NAME-ID.out` (single jobs), `NAME-ID_TASK.out` (array tasks), job scripts, sweep plans.
public struct JobLogs: Sendable {
    public let folder: String

    public init(folder: String) { self.folder = folder }

    /// The names of the folder's files.
    public func names() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] }

    /// The log files of a job, tasks in order.
    public func files(of id: String) -> [String] {
        let single = names().filter { $0.hasSuffix("-\(id).out") }
        let tasks = names().compactMap { name -> (Int, String)? in
            guard name.hasSuffix(".out"), let range = name.range(of: "-\(id)_", options: .backwards),
                let task = Int(name[range.upperBound...].dropLast(4))
            else { return nil }
            return (task, name)
        }.sorted { $0.0 < $1.0 }.map(\.1)
        return (single.sorted() + tasks).map { (folder as NSString).appendingPathComponent($0) }
    }

    /// Removes files last modified more than `seconds` ago, except the logs of the jobs in `keeping`.
    public func clean(olderThan seconds: Double, keeping: Set<String>) throws -> [String] {
        let cutoff = Date().addingTimeInterval(-seconds)
        let kept = Set(keeping.flatMap { files(of: $0) })
        var removed: [String] = []
        for name in names() {
            let path = (folder as NSString).appendingPathComponent(name)
            guard !kept.contains(path),
                let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date,
                modified < cutoff
            else { continue }
            try FileManager.default.removeItem(atPath: path)
            removed.append(path)
        }
        return removed.sorted()
    }
}
