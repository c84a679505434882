import Foundation
public import TandemCore
import TandemFeatures

/// A line longer than the reader's limit (`InputLimits.jsonLineBytes` by default). It is never held in memory
/// whole: the reader keeps its first bytes and a digest, and reads past the rest.
public struct LongLine: Sendable {
    /// 1-based line number.
    public var number: Int
    /// File offset of its first byte.
    public var offset: Int64
    /// Its length in bytes, without the `\n`.
    public var length: Int64
    /// Its first bytes, at most `LongLine.keptBytes`.
    public var prefix: [UInt8]
    /// The SHA-256 of its first `min(length, UInt32.max)` bytes: what a bronze line index records for it.
    public var digest: [UInt8]

    /// How many of its first bytes a long line keeps.
    public static let keptBytes = 4096

    /// The quarantine detail of a long line of JSON lines.
    public var detail: String {
        "the line is \(length) bytes, longer than the \(BoundedFile.describe(bytes: InputLimits.jsonLineBytes)) a line may hold"
            + " (its first \(prefix.count) bytes are kept here)"
    }

    /// The index length of the line (a bronze index holds 32-bit lengths).
    public var indexedLength: UInt32 { UInt32(clamping: length) }

    struct Builder {
        let offset: Int64
        var length: Int64 = 0
        var prefix: [UInt8] = []
        var digest = StreamingDigest()

        init(offset: Int64) { self.offset = offset }

        mutating func add(_ base: UnsafePointer<UInt8>, _ range: Range<Int>) {
            let keep = min(range.count, LongLine.keptBytes - prefix.count)
            if keep > 0 { prefix.append(contentsOf: UnsafeBufferPointer(start: base + range.lowerBound, count: keep)) }
            let hashed = min(Int64(range.count), Int64(UInt32.max) - length)
            if hashed > 0 { digest.update(UnsafeRawBufferPointer(start: base + range.lowerBound, count: Int(hashed))) }
            length += Int64(range.count)
        }

        func finish(number: Int) -> LongLine {
            LongLine(number: number, offset: offset, length: length, prefix: prefix, digest: digest.finalizeBytes())
        }
    }
}

/// Streams a file as lines (split on `\n`; a final `\n` does not start an extra line), in blocks,
/// without loading the file: memory stays bounded whatever the file's size or its lines' lengths. A UTF-8
/// byte-order mark at the start of the file is not part of its first line (docs/data-contract.md).
public struct LineReader {
    /// The path read.
    public let path: String
    /// Total size in bytes (for progress).
    public let size: Int64
    /// 3 when the file starts with a UTF-8 byte-order mark, else 0.
    public let byteOrderMarkLength: Int
    private let descriptor: Int32

    /// Opens a file; refuses a missing, unreadable, empty or non-UTF-8 file with a message naming it (`missing`
    /// says what to do when there is no such file).
    public init(path: String, missing: String = "check the path") throws(Failure) {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Failure(.invalidInput, "\(path): no such file; \(missing)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(.invalidInput, "\(path): not a regular file")
        }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw Failure(.invalidInput, "\(path): cannot be read (\(String(cString: strerror(errno)))); check its permissions")
        }
        self.descriptor = fd
        self.size = Int64(info.st_size)
        var head = [UInt8](repeating: 0, count: 4096)
        let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4096, 0) }
        let bom = head.prefix(max(0, n)).starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        self.byteOrderMarkLength = bom
        guard size > Int64(bom) else {
            close(fd)
            throw Failure(.invalidInput, "\(path): the file is empty; give a JSON-lines file with at least one line")
        }
        let sample = head.prefix(max(0, n)).dropFirst(bom)
        let bom16 = sample.starts(with: [0xFF, 0xFE]) || sample.starts(with: [0xFE, 0xFF])
        var firstLine = sample.prefix { $0 != 0x0A }
        if firstLine.count == 4096 - bom {
            // A long first line may end in the middle of a character: check only whole characters.
            while let last = firstLine.last, last & 0xC0 == 0x80 { firstLine = firstLine.dropLast() }
            if let last = firstLine.last, last >= 0xC0 { firstLine = firstLine.dropLast() }
        }
        if bom16 || sample.contains(0) || String(validating: firstLine, as: UTF8.self) == nil {
            close(fd)
            throw Failure(.invalidInput, "\(path): the file is not UTF-8 text; convert it (for example with iconv -t UTF-8)")
        }
    }

    /// Calls `body` with each block of whole lines: a buffer and the ranges of its lines (without the `\n`),
    /// numbered from `firstLineNumber` (1-based); `bufferOffset` is the file offset of the buffer's first byte.
    /// A line longer than `maxLineLength` goes to `longLine` instead, in its place in the order of lines.
    public func forEachBlock(
        blockSize: Int = 4 << 20, maxLineLength: Int = InputLimits.jsonLineBytes, longLine: (LongLine) throws -> Void,
        _ body: (_ buffer: UnsafeBufferPointer<UInt8>, _ lines: [Range<Int>], _ firstLineNumber: Int, _ bytesRead: Int64) throws
            -> Void
    ) throws {
        defer { close(descriptor) }
        // Room for a carried partial line (at most maxLineLength bytes) and as much again to read.
        var buffer = [UInt8](repeating: 0, count: max(blockSize, 2 * (maxLineLength + 1)))
        var carried = 0
        var lineNumber = 1
        var position = Int64(byteOrderMarkLength)
        guard lseek(descriptor, off_t(byteOrderMarkLength), SEEK_SET) >= 0 else {
            throw Failure(.failed, "\(path): cannot be read (\(String(cString: strerror(errno))))")
        }
        var lines: [Range<Int>] = []
        var skipping: LongLine.Builder?
        while true {
            let readCount = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return read(descriptor, base + carried, raw.count - carried)
            }
            if readCount < 0 {
                if errno == EINTR { continue }
                throw Failure(.failed, "\(path): read failed (\(String(cString: strerror(errno))))")
            }
            position += Int64(readCount)
            let filled = carried + readCount
            let atEnd = readCount == 0
            let bufferOffset = position - Int64(filled)
            lines.removeAll(keepingCapacity: true)
            var consumed = 0
            try buffer.withUnsafeBufferPointer { all in
                guard let base = all.baseAddress else { return }
                func flush() throws {
                    guard !lines.isEmpty else { return }
                    try body(UnsafeBufferPointer(start: base, count: filled), lines, lineNumber, bufferOffset)
                    lineNumber += lines.count
                    lines.removeAll(keepingCapacity: true)
                }
                func long(_ builder: LongLine.Builder) throws {
                    try longLine(builder.finish(number: lineNumber))
                    lineNumber += 1
                }
                var start = 0
                if var builder = skipping {
                    // Inside a long line: read past it up to its `\n`.
                    guard let hit = memchr(base, 0x0A, filled) else {
                        builder.add(base, 0..<filled)
                        skipping = builder
                        if atEnd {
                            try long(builder)
                            skipping = nil
                        }
                        consumed = filled
                        return
                    }
                    let end = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    builder.add(base, 0..<end)
                    try long(builder)
                    skipping = nil
                    start = end + 1
                }
                while start < filled {
                    guard let hit = memchr(base + start, 0x0A, filled - start) else { break }
                    let end = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    if end - start > maxLineLength {
                        try flush()
                        var builder = LongLine.Builder(offset: bufferOffset + Int64(start))
                        builder.add(base, start..<end)
                        try long(builder)
                    } else {
                        lines.append(start..<end)
                    }
                    start = end + 1
                }
                if start < filled && (atEnd || filled - start > maxLineLength) {
                    // The last line of the file, or the start of a long one.
                    if filled - start > maxLineLength {
                        try flush()
                        var builder = LongLine.Builder(offset: bufferOffset + Int64(start))
                        builder.add(base, start..<filled)
                        if atEnd { try long(builder) } else { skipping = builder }
                    } else {
                        lines.append(start..<filled)
                    }
                    start = filled
                }
                consumed = start
                try flush()
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
