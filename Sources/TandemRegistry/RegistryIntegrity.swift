import Foundation
public import TandemCore

/// An anchor and where it was read (`production@1a2b3c4d5e6f:models/relevance-ranker.lock.json`).
public struct FoundAnchor: Sendable, Equatable {
    public var source: String
    public var anchor: AuditAnchor

    public init(source: String, anchor: AuditAnchor) {
        self.source = source
        self.anchor = anchor
    }
}

/// Whether a registry is what its audit log, and the anchors of the log kept outside the registry, say it must be.
public struct IntegrityReport: Sendable, Codable, Equatable {
    /// The number of entries in the log.
    public var entries: Int
    /// Whether every entry's digest and link hold.
    public var chainIntact: Bool
    /// How many anchors were compared with the log, and the newest one's sequence.
    public var anchors: Int
    public var newestAnchor: Int?
    /// How many anchors were ignored as taken on another registry's chain (not a protected environment's).
    public var otherRegistries: Int
    /// What differs, in words; empty when the registry is intact.
    public var problems: [String]
    /// Changes another client of the registry made (an MLflow server's UI or client: an alias moved, a version
    /// registered), which Tandem did not make; in a protected environment they are problems instead.
    public var external: [String] = []

    public var intact: Bool { problems.isEmpty }

    enum CodingKeys: String, CodingKey {
        case entries, anchors, problems, external
        case chainIntact = "chain_intact"
        case newestAnchor = "newest_anchor"
        case otherRegistries = "other_registries"
    }

    /// The error to stop on when the registry is not intact (`.tampered`, exit 3), naming the first difference (the
    /// commands print them all).
    public func error(environment: String) -> Failure? {
        guard !problems.isEmpty else { return nil }
        let more = problems.count > 1 ? " (and \(problems.count - 1) more finding(s), listed above)" : ""
        return Failure(
            .tampered,
            "the \(environment) registry was tampered with: \(problems[0])\(more). Restore the registry root from a "
                + "backup, and find out who could write it")
    }
}

/// The checks behind `tandem models verify` and `tandem models history`.
public enum RegistryIntegrity {
    /// Checks the registry's audit chain, its versions and aliases against the replay of the chain, and the chain
    /// against `anchors`. With `sameRegistry` (a protected environment, which has one registry), anchors taken on
    /// another chain are problems; otherwise they are counted and ignored (another machine's registry).
    ///
    /// What this detects: an entry altered, removed or reordered anywhere (the chain); a version or alias row
    /// added, removed or edited without its entry (the replay, on every field of versions registered since
    /// entries carry the record's digest, else on digest, run and origin); entries removed from the end of the
    /// log, or the log rewritten, up to the newest anchor (the anchors). What it cannot detect: entries removed
    /// from the end after the newest anchor together with the rows they changed (the registry then looks as it
    /// did before them), except a promotion's own `promotion.promoted` entry, which its anchor expects; and, outside
    /// protected environments, a log rewritten from its first entry on.
    public static func check(_ registry: any ModelRegistry, anchors: [FoundAnchor], sameRegistry: Bool = false) throws
        -> IntegrityReport
    {
        let entries = try registry.auditLog()
        var problems: [String] = []
        let broken = AuditChain.firstBrokenEntry(entries)
        if let broken {
            problems.append("audit entry \(broken) does not match its hash chain (an entry was altered, removed or reordered)")
        }
        var external: [String] = []
        for finding in try AuditReplay.findings(registry, entries: entries) {
            // Nobody but Tandem changes a protected environment's registry: there, an external change is tampering.
            if finding.external && !sameRegistry { external.append(finding.text) } else { problems.append(finding.text) }
        }
        var seen = Set<AuditAnchor>()
        var checked: [Int] = []
        var others = 0
        for found in anchors.sorted(by: { $0.anchor.sequence > $1.anchor.sequence }) where seen.insert(found.anchor).inserted {
            switch found.anchor.check(entries, source: found.source, sameRegistry: sameRegistry) {
            case .holds: checked.append(found.anchor.sequence)
            case .otherRegistry: others += 1
            case .problem(let problem):
                checked.append(found.anchor.sequence)
                problems.append(problem)
            }
        }
        return IntegrityReport(
            entries: entries.count, chainIntact: broken == nil, anchors: checked.count, newestAnchor: checked.max(),
            otherRegistries: others, problems: problems, external: external)
    }
}
