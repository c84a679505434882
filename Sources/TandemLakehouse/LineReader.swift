import Foundation
import TandemCore

/// Errors reading raw input files; each names the file and what to do.
public struct InputError: TandemError {
    public var description: String
    public var exitStatus: ExitStatus
}

/// Streams a file as lines (split on `\n`; a final `\n` does not start an extra line), in blocks,
/// without loading the file: memory stays bounded whatever the file's size.
public struct LineReader {
    /// The path read.
    public let path: String
    /// Total size in bytes (for progress).
    public let size: Int64
    private let descriptor: Int32

    /// Opens a file; refuses a missing, unreadable, empty or non-UTF-8 file with a message naming it.
    public init(path: String) throws(InputError) {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw InputError(
                description: "\(path): no such file; the input folder must hold videos.jsonl and judgments.jsonl",
                exitStatus: .badInput)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw InputError(description: "\(path): not a regular file", exitStatus: .badInput)
        }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw InputError(
                description: "\(path): cannot be read (\(String(cString: strerror(errno)))); check its permissions",
                exitStatus: .badInput)
        }
        self.descriptor = fd
        self.size = Int64(info.st_size)
        guard size > 0 else {
            close(fd)
            throw InputError(
                description: "\(path): the file is empty; give a JSON-lines file with at least one line",
                exitStatus: .badInput)
        }
        var head = [UInt8](repeating: 0, count: 4096)
        let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4096, 0) }
        let sample = head.prefix(max(0, n))
        let bom16 = sample.starts(with: [0xFF, 0xFE]) || sample.starts(with: [0xFE, 0xFF])
        var firstLine = sample.prefix { $0 != 0x0A }
        if firstLine.count == 4096 {
            // A long first line may end in the middle of a character: check only whole characters.
            while let last = firstLine.last, last & 0xC0 == 0x80 { firstLine = firstLine.dropLast() }
            if let last = firstLine.last, last >= 0xC0 { firstLine = firstLine.dropLast() }
        }
        if bom16 || sample.contains(0) || String(validating: firstLine, as: UTF8.self) == nil {
            close(fd)
            throw InputError(
                description: "\(path): the file is not UTF-8 text; convert it (for example with iconv -t UTF-8)",
                exitStatus: .badInput)
        }
    }

    /// Calls `body` with each block of whole lines: a buffer and the ranges of its lines (without the `\n`),
    /// numbered from `firstLineNumber` (1-based); `bufferOffset` is the file offset of the buffer's first byte.
    public func forEachBlock(
        blockSize: Int = 4 << 20,
        _ body: (_ buffer: UnsafeBufferPointer<UInt8>, _ lines: [Range<Int>], _ firstLineNumber: Int, _ bytesRead: Int64) throws
            -> Void
    ) throws {
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: blockSize)
        var carried = 0
        var lineNumber = 1
        var position: Int64 = 0
        var lines: [Range<Int>] = []
        while true {
            if carried == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
            let readCount = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return read(descriptor, base + carried, raw.count - carried)
            }
            if readCount < 0 {
                throw InputError(
                    description: "\(path): read failed (\(String(cString: strerror(errno))))", exitStatus: .infrastructure)
            }
            position += Int64(readCount)
            let filled = carried + readCount
            let atEnd = readCount == 0
            lines.removeAll(keepingCapacity: true)
            var consumed = 0
            try buffer.withUnsafeBufferPointer { all in
                guard let base = all.baseAddress else { return }
                var start = 0
                while start < filled {
                    guard let hit = memchr(base + start, 0x0A, filled - start) else { break }
                    let end = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    lines.append(start..<end)
                    start = end + 1
                }
                if atEnd && start < filled {
                    lines.append(start..<filled)
                    start = filled
                }
                consumed = start
                if !lines.isEmpty {
                    try body(UnsafeBufferPointer(start: base, count: filled), lines, lineNumber, position - Int64(filled))
                    lineNumber += lines.count
                }
            }
            if atEnd { return }
            carried = filled - consumed
            if carried > 0 && consumed > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    guard let base = raw.baseAddress else { return }
                    _ = memmove(base, base + consumed, carried)
                }
            }
        }
    }
}
