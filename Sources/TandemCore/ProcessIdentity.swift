import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A process as another process can recognise it later: host, pid and the pid's start time (clock ticks since
/// boot, from `/proc/PID/stat`), so that a pid the kernel reused for another program is not mistaken for it.
///
/// Tandem records this identity wherever a process leaves something behind that only it may finish or remove
/// (staging folders, a training's run), and decides "the owner is gone" on it: the host is this one and no
/// process with that pid and start time runs.
public struct ProcessIdentity: Sendable, Equatable, Codable {
    /// The host name the process runs on.
    public var host: String
    /// Its process id.
    public var pid: Int32
    /// Its start time in clock ticks since boot (0 where `/proc` is not available).
    public var start: UInt64

    /// Makes an identity from its parts.
    public init(host: String, pid: Int32, start: UInt64) {
        self.host = host
        self.pid = pid
        self.start = start
    }

    /// This process.
    public static let current: ProcessIdentity = {
        let pid = getpid()
        return ProcessIdentity(host: hostName(), pid: pid, start: startTime(of: pid))
    }()

    /// This machine's host name.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The start time of `pid` in clock ticks since boot, or 0 when no such process is visible.
    public static func startTime(of pid: Int32) -> UInt64 {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command name: state is field 3; starttime is field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) ?? 0 : 0
    }

    /// Whether the process runs on this host: `nil` when it belongs to another host (this one cannot tell).
    public var isAlive: Bool? {
        guard host == Self.current.host else { return nil }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        return Self.startTime(of: pid) == start
    }

    /// A short tag of the host name (8 hex digits of its SHA-256), for names on a shared file system.
    public var hostTag: String { String(ContentDigest.sha256Hex(Data(host.utf8)).prefix(8)) }

    /// The identity as one token for a file name: `PID-START-HOSTTAG`.
    public var token: String { "\(pid)-\(start)-\(hostTag)" }

    /// Whether the process a `token` names is alive: `nil` when the token does not parse or names another
    /// host (this one cannot tell, so whatever it owns is left alone).
    public static func isAlive(token: Substring) -> Bool? {
        let parts = token.split(separator: "-", maxSplits: 2)
        guard parts.count == 3, let pid = Int32(parts[0]), let start = UInt64(parts[1]), parts[2] == current.hostTag
        else { return nil }
        return ProcessIdentity(host: current.host, pid: pid, start: start).isAlive
    }
}
