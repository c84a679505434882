public import Foundation

/// The largest inputs Tandem reads from files a user (or a branch) hands it, so that no file, document or line
/// can make a stage grow without bound. The README and docs/security.md list them.
public enum InputLimits {
    /// A YAML document: a profile, a training configuration, a sweep file (1 MiB).
    public static let yamlBytes = 1 << 20
    /// How deeply the mappings and lists of a YAML document may nest.
    public static let yamlDepth = 64
    /// One line of JSON lines: a raw line of the ETL, a request of `tandem evaluate score` (1 MiB, without its `\n`).
    public static let jsonLineBytes = 1 << 20
    /// A model lock file (64 KiB; a real one is well under 1 KiB).
    public static let lockFileBytes = 1 << 16
}

/// Reads a whole file only when it is a regular file no larger than a limit, so a huge file, a device such as
/// `/dev/zero` or a FIFO is refused instead of read without end.
public enum BoundedFile {
    /// Why a file was not read.
    public enum Failure: Error, Sendable, Equatable {
        /// No such file (or a link to nothing).
        case missing
        /// It exists but cannot be opened or read; the text is the system's reason.
        case unreadable(String)
        /// A folder, device, FIFO or socket.
        case notRegularFile
        /// Larger than the limit; `prefix` holds the first `limit + 1` bytes, to locate where the limit falls.
        case tooLarge(limit: Int, prefix: Data)
    }

    /// The file's bytes, or why they were not read. Never reads more than `limit + 1` bytes.
    public static func read(_ path: String, limit: Int) -> Result<Data, Failure> {
        // O_NONBLOCK so that opening a FIFO does not wait for a writer; regular files ignore it.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            return .failure(errno == ENOENT || errno == ENOTDIR ? .missing : .unreadable(String(cString: strerror(errno))))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(.unreadable(String(cString: strerror(errno)))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .failure(.notRegularFile) }
        var bytes = [UInt8](repeating: 0, count: min(limit + 1, max(0, Int(info.st_size)) + 1))
        var filled = 0
        while filled < limit + 1 {
            if filled == bytes.count {
                bytes.append(contentsOf: [UInt8](repeating: 0, count: min(limit + 1, 2 * filled) - filled))
            }
            let n = bytes.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Foundation.read(fd, base + filled, raw.count - filled)
            }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.unreadable(String(cString: strerror(errno))))
            }
            if n == 0 { break }
            filled += n
        }
        let data = Data(bytes.prefix(filled))
        return filled > limit ? .failure(.tooLarge(limit: limit, prefix: data)) : .success(data)
    }

    /// A size in words: `1 MiB`, `64 KiB`, `512 bytes`.
    public static func describe(bytes: Int) -> String {
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}
