public import Foundation
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

    /// The aliases of a model at that time, with the version each pointed at (an alias deleted or not yet set
    /// then is absent).
    public static func aliases(of name: String, at time: String, in entries: [AuditEntry]) -> [String: Int] {
        let names = Set(
            entries.filter { $0.action.hasPrefix("alias.") && $0.subject.hasPrefix(name + "@") }
                .map { String($0.subject.dropFirst(name.count + 1)) })
        var aliases: [String: Int] = [:]
        for alias in names { aliases[alias] = Self.alias(alias, of: name, at: time, in: entries) }
        return aliases
    }
}

/// A point of a registry's audit chain recorded outside the registry (in a lock file committed on a branch):
/// the sequence and digest of the entry that was the head then, and the digest of the log's first entry, which
/// tells one registry's chain from another's. The chain's digests cover every entry before, so while the log still
/// holds that entry with that digest, entries 1…`sequence` are as they were; a log that ends before it, or holds
/// another digest there, was cut short or rewritten.
public struct AuditAnchor: Sendable, Codable, Equatable, Hashable {
    public var sequence: Int
    public var digest: String
    /// The digest of the log's first entry when the anchor was taken.
    public var chain: String?
    /// The promotion that wrote the anchor (on the production branch): its `promotion.promoted` entry, appended
    /// after the anchor once the promotion is published, must be in the log.
    public var promotion: String?

    public init(sequence: Int, digest: String, chain: String?, promotion: String? = nil) {
        self.sequence = sequence
        self.digest = digest
        self.chain = chain
        self.promotion = promotion
    }

    /// The head of a log (nil for an empty one).
    public static func head(of entries: [AuditEntry], promotion: String? = nil) -> AuditAnchor? {
        entries.last.map {
            AuditAnchor(sequence: $0.sequence, digest: $0.digest, chain: entries.first?.digest, promotion: promotion)
        }
    }

    /// What comparing a log with an anchor found.
    public enum Finding: Sendable, Equatable {
        /// The log holds the anchored entry (and the promotion's entry after it).
        case holds
        /// The anchor was taken on another registry's chain (another machine's test registry, say).
        case otherRegistry
        /// The log was cut short or rewritten; in words, naming `source`.
        case problem(String)
    }

    /// Compares `entries` with this anchor, read from `source`. With `sameRegistry` (a protected environment, which
    /// has one registry), an anchor of another chain is a problem too: this log was rewritten from its start.
    public func check(_ entries: [AuditEntry], source: String, sameRegistry: Bool = false) -> Finding {
        if let chain, chain != entries.first?.digest {
            guard sameRegistry else { return .otherRegistry }
            let first = entries.first.map { "sha256:\($0.digest.prefix(12))…" } ?? "missing (the log is empty)"
            return .problem(
                "\(source) anchors a log whose first entry is sha256:\(chain.prefix(12))…, but this registry's is \(first): "
                    + "the log was rewritten from its start, or this is not the registry the lock file was written against")
        }
        guard let entry = entries.first(where: { $0.sequence == sequence }) else {
            return .problem(
                "\(source) anchors audit entry \(sequence) (sha256:\(digest.prefix(12))…), but the log ends at entry "
                    + "\(entries.last?.sequence ?? 0): entries were deleted from its end")
        }
        if entry.digest != digest {
            return .problem(
                "\(source) anchors audit entry \(sequence) as sha256:\(digest.prefix(12))…, but the log holds "
                    + "sha256:\(entry.digest.prefix(12))… there: the log was rewritten")
        }
        if let promotion,
            !entries.contains(where: {
                $0.sequence > sequence && $0.action == "promotion.promoted" && $0.detail["promotion"] == promotion
            })
        {
            return .problem(
                "\(source) was written by promotion \(promotion), but the log has no promotion.promoted entry of it after "
                    + "entry \(sequence): it was deleted from the log's end, or the promotion is unfinished "
                    + "(`tandem promote recover` finishes it)")
        }
        return .holds
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
