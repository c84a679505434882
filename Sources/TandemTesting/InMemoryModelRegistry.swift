public import Foundation
import TandemCore
public import TandemRegistry

/// A `ModelRegistry` held in memory, with the observable semantics of `SQLiteModelRegistry` and
/// `MLflowModelRegistry` (the registry conformance suite runs against all three): versions numbered from 1 per
/// model, aliases that move when set again, artifacts content-addressed and checked against their digest on every
/// read, every change appended to a hash-chained audit log, and failures as `Failure` codes (`.notFound` only
/// for what does not exist). Every operation is atomic (one lock). Nothing persists beyond the object.
///
/// For tests of what a damaged registry does, `overwriteArtifact(digest:with:)` alters stored bytes behind the
/// registry's back, and an `Outage` makes every operation fail as an unreachable registry does (`.unreachable`).
public final class InMemoryModelRegistry: ModelRegistry, @unchecked Sendable {
    private let lock = NSLock()
    private let outage: Outage?
    private var runRecords: [String: RunRecord] = [:]
    private var metrics: [String: [MetricPoint]] = [:]
    private var blobs: [String: Data] = [:]
    private var modelVersions: [String: [ModelVersion]] = [:]
    private var aliasTable: [String: [String: Int]] = [:]
    private var log: [AuditEntry] = []

    /// - Parameter outage: a switch that, while down, makes every operation fail with `.unreachable`.
    public init(outage: Outage? = nil) { self.outage = outage }

    /// Runs `body` under the lock, failing first when the registry is down.
    private func locked<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if outage?.isDown == true {
            throw Failure(.unreachable, "the in-memory registry is unreachable (an outage was started)")
        }
        return try body()
    }

    // MARK: Runs

    public func createRun(_ run: RunRecord) throws -> String {
        try locked {
            guard runRecords[run.id] == nil else { throw Failure(.conflict, "a run '\(run.id)' exists already") }
            runRecords[run.id] = run
            return run.id
        }
    }

    public func logMetrics(runID: String, _ points: [MetricPoint]) throws {
        try locked {
            guard runRecords[runID] != nil else { throw Failure(.notFound, "no run '\(runID)' in this registry") }
            metrics[runID, default: []] += points
        }
    }

    public func updateRun(_ run: RunRecord) throws {
        try locked {
            guard runRecords[run.id] != nil else { throw Failure(.notFound, "no run \(run.id)") }
            runRecords[run.id] = run
        }
    }

    public func run(id: String) throws -> RunRecord {
        try locked {
            guard let run = runRecords[id] else {
                throw Failure(.notFound, "no run '\(id)' in this registry; list them with `tandem runs list`")
            }
            return run
        }
    }

    public func runs(experiment: String?, limit: Int) throws -> [RunRecord] {
        try locked {
            let chosen = runRecords.values.filter { experiment == nil || $0.experiment == experiment }
            let sorted = chosen.sorted { ($0.startedAt, $1.id) > ($1.startedAt, $0.id) }
            return Array(sorted.prefix(max(0, limit)))
        }
    }

    public func metricHistory(runID: String) throws -> [MetricPoint] {
        try locked {
            // Stable: points of one key and step keep the order they were logged in.
            (metrics[runID] ?? []).enumerated().sorted {
                ($0.element.key, $0.element.step, $0.offset) < ($1.element.key, $1.element.step, $1.offset)
            }
            .map(\.element)
        }
    }

    // MARK: Artifacts

    public func storeArtifact(_ data: Data) throws -> String {
        try locked {
            let digest = ContentDigest.sha256Hex(data)
            if blobs[digest] == nil { blobs[digest] = data }
            return digest
        }
    }

    public func artifact(digest: String) throws -> Data {
        try locked {
            guard let data = blobs[digest] else {
                throw Failure(.tampered, "the artifact \(digest.prefix(12))… is missing from the registry")
            }
            guard ContentDigest.sha256Hex(data) == digest else {
                throw Failure(
                    .tampered,
                    "the artifact \(digest.prefix(12))… does not match its digest \(digest.prefix(12))…; it was altered")
            }
            return data
        }
    }

    /// Replaces the bytes stored under `digest` without updating anything else, as a disk or a person editing the
    /// store behind the registry's back would: the next read of that artifact fails `.tampered`.
    public func overwriteArtifact(digest: String, with data: Data) {
        lock.lock()
        blobs[digest] = data
        lock.unlock()
    }

    // MARK: Models, versions, aliases

    public func createVersion(_ version: ModelVersion, actor: String) throws -> ModelVersion {
        try locked {
            guard blobs[version.artifactDigest] != nil else {
                throw Failure(
                    .invalidInput, "artifact \(version.artifactDigest.prefix(12))… is not in this registry; store it first")
            }
            var v = version
            v.version = (modelVersions[v.name]?.last?.version ?? 0) + 1
            v.createdAt = Timestamp.nowMillis()
            modelVersions[v.name, default: []].append(v)
            appendLocked(
                actor: actor, action: v.copiedFrom == nil ? "version.create" : "version.copy", subject: v.reference,
                detail: v.auditDetail)
            return v
        }
    }

    public func version(_ reference: ModelReference) throws -> ModelVersion {
        try locked {
            let number: Int?
            switch reference {
            case .version(_, let v): number = v
            case .alias(let name, let alias): number = aliasTable[name]?[alias]
            }
            guard let number, let found = modelVersions[reference.name]?.first(where: { $0.version == number }) else {
                throw Failure(.notFound, "no model version \(reference) in this registry; see `tandem models list`")
            }
            return found
        }
    }

    public func versions(name: String) throws -> [ModelVersion] {
        try locked { modelVersions[name] ?? [] }
    }

    public func models() throws -> [String] {
        try locked { modelVersions.keys.sorted() }
    }

    public func setAlias(name: String, alias: String, version: Int, actor: String) throws {
        try locked {
            guard Int(alias) == nil, !alias.isEmpty, !alias.contains("@") else {
                throw Failure(.invalidInput, "'\(alias)' cannot be an alias; an alias is a name such as champion (not a number)")
            }
            guard modelVersions[name]?.contains(where: { $0.version == version }) == true else {
                throw Failure(.notFound, "no model version \(name)@\(version); an alias must point at an existing version")
            }
            let previous = aliasTable[name]?[alias]
            aliasTable[name, default: [:]][alias] = version
            appendLocked(
                actor: actor, action: "alias.set", subject: "\(name)@\(alias)",
                detail: ["version": String(version), "previous": previous.map(String.init) ?? ""])
        }
    }

    public func deleteAlias(name: String, alias: String, actor: String) throws {
        try locked {
            guard let previous = aliasTable[name]?[alias] else { throw Failure(.notFound, "no alias \(name)@\(alias)") }
            aliasTable[name]?[alias] = nil
            appendLocked(
                actor: actor, action: "alias.delete", subject: "\(name)@\(alias)", detail: ["previous": String(previous)])
        }
    }

    public func aliases(name: String) throws -> [String: Int] {
        try locked { aliasTable[name] ?? [:] }
    }

    // MARK: Audit

    public func auditLog() throws -> [AuditEntry] {
        try locked { log }
    }

    public func appendAudit(actor: String, action: String, subject: String, detail: [String: String]) throws {
        try locked { appendLocked(actor: actor, action: action, subject: subject, detail: detail) }
    }

    /// Appends one entry to the chain; the caller holds the lock.
    private func appendLocked(actor: String, action: String, subject: String, detail: [String: String]) {
        let sequence = (log.last?.sequence ?? 0) + 1
        let previous = log.last?.digest ?? AuditChain.genesis
        let at = Timestamp.nowMillis()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: (try? encoder.encode(detail)) ?? Data("{}".utf8), as: UTF8.self)
        let digest = AuditChain.digest(
            sequence: sequence, at: at, actor: actor, action: action, subject: subject, detail: text, previous: previous)
        log.append(
            AuditEntry(
                sequence: sequence, at: at, actor: actor, action: action, subject: subject, detail: detail,
                previousDigest: previous, digest: digest))
    }
}
