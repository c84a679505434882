import Foundation
import TandemCore

/// What the audit log says a registry must hold, replayed from its entries, and where the registry differs.
///
/// Every registry write appends its entry (in SQLite, in the same transaction): `version.create` and
/// `version.copy` name the version, its artifact digest, run, origin and, since entries carry it, the digest of
/// the whole version record; `alias.set` and `alias.delete` move aliases. Replaying them gives the versions and
/// aliases the tables must hold; a row changed, added or removed behind the registry's back (the SQLite CLI with
/// the triggers dropped) differs from the replay.
public enum AuditReplay {
    /// What an entry says about one version.
    public struct VersionFacts: Sendable, Equatable {
        public var sequence: Int
        public var artifactDigest: String
        public var runID: String
        public var copiedFrom: String?
        /// The digest of the version record (`ModelVersion.recordDigest`), on entries written since it is recorded.
        public var record: String?
    }

    /// What an entry says about one alias.
    public struct AliasFacts: Sendable, Equatable {
        public var version: Int
        public var sequence: Int
    }

    /// The versions (by model, then number) and aliases (by model, then alias) the entries leave.
    public struct State: Sendable, Equatable {
        public var versions: [String: [Int: VersionFacts]] = [:]
        public var aliases: [String: [String: AliasFacts]] = [:]
    }

    /// The state the entries leave, in order.
    public static func state(_ entries: [AuditEntry]) -> State {
        var state = State()
        for e in entries {
            guard let subject = ModelReference(e.subject) else { continue }
            switch (e.action, subject) {
            case ("version.create", .version(let name, let number)), ("version.copy", .version(let name, let number)):
                state.versions[name, default: [:]][number] = VersionFacts(
                    sequence: e.sequence, artifactDigest: e.detail["digest"] ?? "", runID: e.detail["run_id"] ?? "",
                    copiedFrom: e.detail["copied_from"], record: e.detail["record"])
            case ("alias.set", .alias(let name, let alias)):
                if let version = e.detail["version"].flatMap({ Int($0) }) {
                    state.aliases[name, default: [:]][alias] = AliasFacts(version: version, sequence: e.sequence)
                }
            case ("alias.delete", .alias(let name, let alias)):
                state.aliases[name]?[alias] = nil
            default:
                break
            }
        }
        return state
    }

    /// Where the registry's versions and aliases differ from the replay of `entries`, in words (empty when they
    /// agree). Reads every model, version and alias of the registry.
    public static func differences(_ registry: any ModelRegistry, entries: [AuditEntry]) throws -> [String] {
        try findings(registry, entries: entries).map(\.text)
    }

    /// A difference, and whether another client of a registry that has them (MLflow) may have made it: an alias
    /// moved, set or deleted, or a version registered, without Tandem.
    public struct Finding: Sendable, Equatable {
        public var text: String
        public var external: Bool
    }

    /// The differences, each marked external when `registry.acceptsOtherClients` and it is a change such a client
    /// makes (worded so); every other difference is tampering.
    public static func findings(_ registry: any ModelRegistry, entries: [AuditEntry]) throws -> [Finding] {
        let expected = state(entries)
        let others = registry.acceptsOtherClients
        var out: [Finding] = []
        let names = Set(try registry.models()).union(expected.versions.keys).union(expected.aliases.keys).sorted()
        for name in names {
            let actual = Dictionary(try registry.versions(name: name).map { ($0.version, $0) }, uniquingKeysWith: { a, _ in a })
            let wanted = expected.versions[name] ?? [:]
            for number in Set(actual.keys).union(wanted.keys).sorted() {
                if others, let added = actual[number], wanted[number] == nil {
                    out.append(
                        Finding(
                            text: "\(name)@\(number) was registered outside Tandem (another MLflow client; no audit entry)"
                                + (added.artifactDigest.isEmpty
                                    ? ": it has no Tandem artifact digest, so Tandem cannot verify it" : ""),
                            external: true))
                    continue
                }
                out += differences("\(name)@\(number)", actual[number], wanted[number]).map {
                    Finding(text: $0, external: false)
                }
            }
            let aliases = try registry.aliases(name: name)
            let wantedAliases = expected.aliases[name] ?? [:]
            for alias in Set(aliases.keys).union(wantedAliases.keys).sorted() {
                let subject = "\(name)@\(alias)"
                switch (aliases[alias], wantedAliases[alias]) {
                case (let a?, nil) where others:
                    out.append(
                        Finding(
                            text: "\(subject) points at version \(a), set outside Tandem (another MLflow client; no audit entry)",
                            external: true))
                case (nil, let w?) where others:
                    out.append(
                        Finding(
                            text: "\(subject) was deleted outside Tandem (another MLflow client); entry \(w.sequence) set it to "
                                + "version \(w.version)", external: true))
                case (let a?, let w?) where others && a != w.version:
                    out.append(
                        Finding(
                            text: "\(subject) points at version \(a), moved outside Tandem (another MLflow client); entry "
                                + "\(w.sequence) set it to version \(w.version)", external: true))
                case (let a?, nil):
                    out.append(
                        Finding(
                            text:
                                "\(subject) points at version \(a) in the registry, but the audit log never set it (a row was added)",
                            external: false))
                case (nil, let w?):
                    out.append(
                        Finding(
                            text:
                                "\(subject) is missing from the registry, but entry \(w.sequence) set it to version \(w.version) (a row was deleted)",
                            external: false))
                case (let a?, let w?) where a != w.version:
                    out.append(
                        Finding(
                            text:
                                "\(subject) points at version \(a) in the registry, but entry \(w.sequence) set it to version \(w.version) (a row was edited)",
                            external: false))
                default: break
                }
            }
        }
        return out
    }

    static func differences(_ reference: String, _ actual: ModelVersion?, _ wanted: VersionFacts?) -> [String] {
        switch (actual, wanted) {
        case (nil, let w?):
            return ["\(reference) is missing from the registry, but entry \(w.sequence) registered it (a row was deleted)"]
        case (let a?, nil):
            return [
                "\(reference) (sha256:\(a.artifactDigest.prefix(12))…) is in the registry, but no audit entry registered it "
                    + "(a row was added, or its entry deleted)"
            ]
        case (let a?, let w?):
            var out: [String] = []
            let entry = "entry \(w.sequence)"
            if a.artifactDigest != w.artifactDigest {
                out.append(
                    "\(reference): the registry's artifact digest is \(a.artifactDigest.prefix(12))…, \(entry) registered "
                        + "\(w.artifactDigest.prefix(12))… (the row was edited)")
            }
            if (a.runID ?? "") != w.runID {
                out.append(
                    "\(reference): the registry's run is \(a.runID ?? "none"), \(entry) registered \(w.runID.isEmpty ? "none" : w.runID)"
                )
            }
            if a.copiedFrom != w.copiedFrom {
                out.append(
                    "\(reference): the registry says it was copied from \(a.copiedFrom ?? "nowhere"), \(entry) registered it "
                        + "as copied from \(w.copiedFrom ?? "nowhere")"
                )
            }
            if let record = w.record, out.isEmpty, a.recordDigest != record {
                out.append(
                    "\(reference): the version's record (metrics, signature, lineage…) is not what \(entry) registered "
                        + "(sha256:\(record.prefix(12))…, now \(a.recordDigest.prefix(12))…): the row was edited")
            }
            return out
        case (nil, nil):
            return []
        }
    }
}

extension ModelVersion {
    /// The SHA-256 of the version's canonical JSON (sorted keys): `version.create` and `version.copy` entries record
    /// it, so that an edit to any field of the version is detected.
    public var recordDigest: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return ContentDigest.sha256Hex((try? encoder.encode(self)) ?? Data())
    }

    /// The detail of the audit entry that registers this version.
    public var auditDetail: [String: String] {
        var detail = ["digest": artifactDigest, "run_id": runID ?? "", "record": recordDigest]
        if let from = copiedFrom { detail["copied_from"] = from }
        return detail
    }
}
