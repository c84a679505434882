import Foundation
import TandemCore

/// The hash chain of an audit log: each entry's digest covers its fields and the digest of the entry before.
public enum AuditChain {
    /// The "previous digest" of the first entry.
    public static let genesis = String(repeating: "0", count: 64)

    /// The digest of one entry.
    public static func digest(
        sequence: Int, at: String, actor: String, action: String, subject: String, detail: String, previous: String
    ) -> String {
        ContentDigest.sha256Hex([String(sequence), at, actor, action, subject, detail, previous].joined(separator: "\n"))
    }

    /// The first entry whose digest or link does not hold (nil when the whole chain is intact).
    public static func firstBrokenEntry(_ entries: [AuditEntry]) -> Int? {
        var previous = genesis
        for (i, e) in entries.enumerated() {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let detail = (try? encoder.encode(e.detail)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let expected = digest(
                sequence: e.sequence, at: e.at, actor: e.actor, action: e.action, subject: e.subject, detail: detail,
                previous: previous)
            if e.sequence != i + 1 || e.previousDigest != previous || e.digest != expected { return e.sequence }
            previous = e.digest
        }
        return nil
    }

    /// The version an alias pointed at, at time `time` (RFC 3339), replaying the log; nil if it pointed nowhere.
    public static func alias(_ alias: String, of name: String, at time: String, in entries: [AuditEntry]) -> Int? {
        var current: Int?
        for e in entries where e.subject == "\(name)@\(alias)" && e.at <= time {
            switch e.action {
            case "alias.set": current = e.detail["version"].flatMap { Int($0) }
            case "alias.delete": current = nil
            default: break
            }
        }
        return current
    }
}

/// Who is acting: `TANDEM_ACTOR` when set (CI sets it from its authenticated user), else the OS user.
public enum Actor {
    public static func current(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let actor = environment["TANDEM_ACTOR"], !actor.isEmpty { return actor }
        if let user = environment["USER"], !user.isEmpty { return user }
        if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return "uid-\(getuid())"
    }
}
