import Foundation
import GRDB
import TandemCore
import TandemStorage

/// The embedded registry of a `file://` root: SQLite (`registry.sqlite`) for metadata, every write in one
/// transaction with its audit entry, and a content-addressed artifact store (`artifacts/sha256/AB/DIGEST`).
public final class SQLiteModelRegistry: ModelRegistry, @unchecked Sendable {
    public let root: String
    let queue: DatabaseQueue
    /// Decoded versions by `name@version`: versions are immutable, so a decoded one never goes stale.
    private var versionCache: [String: ModelVersion] = [:]
    private let cacheLock = NSLock()

    public init(root: String) throws(StoreError) {
        self.root = root
        queue = try SQLiteDatabase.open(
            path: (root as NSString).appendingPathComponent("registry.sqlite"), migrations: Self.migrations)
    }

    static let migrations: [(String, @Sendable (Database) throws -> Void)] = [
        (
            "v1",
            { db in
                try db.execute(
                    sql: """
                        CREATE TABLE runs(
                            id TEXT PRIMARY KEY, experiment TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
                            parent_id TEXT, started_at TEXT NOT NULL, ended_at TEXT, body TEXT NOT NULL);
                        CREATE INDEX runs_by_experiment ON runs(experiment, started_at);
                        CREATE TABLE run_metrics(
                            run_id TEXT NOT NULL REFERENCES runs(id), key TEXT NOT NULL, value REAL NOT NULL,
                            step INTEGER NOT NULL, timestamp TEXT NOT NULL);
                        CREATE INDEX run_metrics_by_run ON run_metrics(run_id, key, step);
                        CREATE TABLE registered_models(name TEXT PRIMARY KEY, created_at TEXT NOT NULL);
                        CREATE TABLE model_versions(
                            name TEXT NOT NULL REFERENCES registered_models(name), version INTEGER NOT NULL,
                            created_at TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY(name, version)) WITHOUT ROWID;
                        CREATE TABLE aliases(
                            name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL,
                            PRIMARY KEY(name, alias)) WITHOUT ROWID;
                        CREATE TABLE audit_log(
                            sequence INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                            subject TEXT NOT NULL, detail TEXT NOT NULL, previous_digest TEXT NOT NULL, digest TEXT NOT NULL);
                        CREATE TRIGGER model_versions_immutable BEFORE UPDATE ON model_versions
                        BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;
                        """)
            }
        )
    ]

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    // MARK: Runs

    @discardableResult
    public func createRun(_ run: RunRecord) throws -> String {
        try queue.write { db in

            try db.execute(
                sql: "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    run.id, run.experiment, run.name, run.status, run.parentID, run.startedAt, run.endedAt, try Self.json(run),
                ])
        }
        return run.id

    }

    public func updateRun(_ run: RunRecord) throws {
        try queue.write { db in
            try db.execute(
                sql: "UPDATE runs SET status = ?, ended_at = ?, body = ? WHERE id = ?",
                arguments: [run.status, run.endedAt, try Self.json(run), run.id])
            guard db.changesCount == 1 else { throw RegistryError("no run \(run.id)") }
        }
    }

    public func logMetrics(runID: String, _ points: [MetricPoint]) throws {
        try queue.write { db in
            let statement = try db.makeStatement(sql: "INSERT INTO run_metrics VALUES (?, ?, ?, ?, ?)")
            for p in points { try statement.execute(arguments: [runID, p.key, p.value, p.step, p.timestamp]) }
        }
    }

    public func run(id: String) throws -> RunRecord {
        let body = try queue.read { db in try String.fetchOne(db, sql: "SELECT body FROM runs WHERE id = ?", arguments: [id]) }
        guard let body else { throw RegistryError("no run '\(id)' in this registry; list them with `tandem runs list`") }
        return try Self.decode(RunRecord.self, body)
    }

    public func runs(experiment: String?, limit: Int) throws -> [RunRecord] {
        try queue.read { db in
            let bodies: [String]
            if let experiment {
                bodies = try String.fetchAll(
                    db, sql: "SELECT body FROM runs WHERE experiment = ? ORDER BY started_at DESC, id LIMIT ?",
                    arguments: [experiment, limit])
            } else {
                bodies = try String.fetchAll(
                    db, sql: "SELECT body FROM runs ORDER BY started_at DESC, id LIMIT ?", arguments: [limit])
            }
            return try bodies.map { try Self.decode(RunRecord.self, $0) }
        }
    }

    public func metricHistory(runID: String) throws -> [MetricPoint] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM run_metrics WHERE run_id = ? ORDER BY key, step, rowid", arguments: [runID])
                .map {
                    MetricPoint(key: $0["key"], value: $0["value"], step: $0["step"], timestamp: $0["timestamp"])
                }
        }
    }

    // MARK: Artifacts

    func artifactPath(_ digest: String) -> String {
        (root as NSString).appendingPathComponent("artifacts/sha256/\(digest.prefix(2))/\(digest)")
    }

    public func storeArtifact(_ data: Data) throws -> String {
        let digest = ContentDigest.sha256Hex(data)
        let path = artifactPath(digest)
        if FileManager.default.fileExists(atPath: path) { return digest }
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary = path + ".tmp-\(getpid())-\(UUID().uuidString)"
        try data.write(to: URL(fileURLWithPath: temporary))
        let handle = FileHandle(forWritingAtPath: temporary)
        try handle?.synchronize()
        try handle?.close()
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw RegistryError(
                "\(path): cannot store the artifact (\(String(cString: strerror(errno))))", exitStatus: .infrastructure)
        }
        return digest
    }

    public func artifact(digest: String) throws -> Data {
        let path = artifactPath(digest)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RegistryError(
                "\(path): the artifact \(digest.prefix(12))… is missing from the registry", exitStatus: .infrastructure)
        }
        guard ContentDigest.sha256Hex(data) == digest else {
            throw RegistryError(
                "\(path): the artifact does not match its digest \(digest.prefix(12))…; it was altered",
                exitStatus: .infrastructure)
        }
        return data
    }

    // MARK: Models

    public func createVersion(_ version: ModelVersion, actor: String) throws -> ModelVersion {
        guard FileManager.default.fileExists(atPath: artifactPath(version.artifactDigest)) else {
            throw RegistryError("artifact \(version.artifactDigest.prefix(12))… is not in this registry; store it first")
        }
        return try queue.write { db in
            let now = Timestamp.nowMillis()
            try db.execute(sql: "INSERT OR IGNORE INTO registered_models VALUES (?, ?)", arguments: [version.name, now])
            let next =
                (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM model_versions WHERE name = ?", arguments: [version.name])
                    ?? 0) + 1
            var v = version
            v.version = next
            v.createdAt = now
            try db.execute(
                sql: "INSERT INTO model_versions VALUES (?, ?, ?, ?)", arguments: [v.name, next, now, try Self.json(v)])
            var detail = ["digest": v.artifactDigest, "run_id": v.runID ?? ""]
            if let from = v.copiedFrom { detail["copied_from"] = from }
            try self.audit(
                db, actor: actor, action: v.copiedFrom == nil ? "version.create" : "version.copy", subject: v.reference,
                detail: detail)
            return v
        }
    }

    public func version(_ reference: ModelReference) throws -> ModelVersion {
        let (name, number): (String, Int?) = try queue.read { db in
            switch reference {
            case .version(let name, let v):
                return (name, v)
            case .alias(let name, let alias):
                return (
                    name,
                    try Int.fetchOne(
                        db, sql: "SELECT version FROM aliases WHERE name = ? AND alias = ?", arguments: [name, alias])
                )
            }
        }
        guard let number else { throw RegistryError("no model version \(reference) in this registry; see `tandem models list`") }
        let key = "\(name)@\(number)"
        cacheLock.lock()
        let cached = versionCache[key]
        cacheLock.unlock()
        if let cached { return cached }
        let body = try queue.read { db in
            try String.fetchOne(
                db, sql: "SELECT body FROM model_versions WHERE name = ? AND version = ?", arguments: [name, number])
        }
        guard let body else { throw RegistryError("no model version \(reference) in this registry; see `tandem models list`") }
        let version = try Self.decode(ModelVersion.self, body)
        cacheLock.lock()
        versionCache[key] = version
        cacheLock.unlock()
        return version
    }

    public func versions(name: String) throws -> [ModelVersion] {
        try queue.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM model_versions WHERE name = ? ORDER BY version", arguments: [name])
        }.map { try Self.decode(ModelVersion.self, $0) }
    }

    public func models() throws -> [String] {
        try queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM registered_models ORDER BY name") }
    }

    public func setAlias(name: String, alias: String, version: Int, actor: String) throws {
        guard Int(alias) == nil, !alias.isEmpty, !alias.contains("@") else {
            throw RegistryError("'\(alias)' cannot be an alias; an alias is a name such as champion (not a number)")
        }
        try queue.write { db in
            guard
                try Int.fetchOne(
                    db, sql: "SELECT 1 FROM model_versions WHERE name = ? AND version = ?", arguments: [name, version]) != nil
            else { throw RegistryError("no model version \(name)@\(version); an alias must point at an existing version") }
            let previous = try Int.fetchOne(
                db, sql: "SELECT version FROM aliases WHERE name = ? AND alias = ?", arguments: [name, alias])
            try db.execute(
                sql: "INSERT INTO aliases VALUES (?, ?, ?) ON CONFLICT(name, alias) DO UPDATE SET version = excluded.version",
                arguments: [name, alias, version])
            try self.audit(
                db, actor: actor, action: "alias.set", subject: "\(name)@\(alias)",
                detail: ["version": String(version), "previous": previous.map(String.init) ?? ""])
        }
    }

    public func deleteAlias(name: String, alias: String, actor: String) throws {
        try queue.write { db in
            let previous = try Int.fetchOne(
                db, sql: "SELECT version FROM aliases WHERE name = ? AND alias = ?", arguments: [name, alias])
            guard let previous else { throw RegistryError("no alias \(name)@\(alias)") }
            try db.execute(sql: "DELETE FROM aliases WHERE name = ? AND alias = ?", arguments: [name, alias])
            try self.audit(
                db, actor: actor, action: "alias.delete", subject: "\(name)@\(alias)", detail: ["previous": String(previous)])
        }
    }

    public func aliases(name: String) throws -> [String: Int] {
        try queue.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(
                    db, sql: "SELECT alias, version FROM aliases WHERE name = ?", arguments: [name]
                ).map {
                    ($0["alias"] as String, $0["version"] as Int)
                })
        }
    }

    // MARK: Audit

    public func auditLog() throws -> [AuditEntry] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY sequence").map {
                AuditEntry(
                    sequence: $0["sequence"], at: $0["at"], actor: $0["actor"], action: $0["action"], subject: $0["subject"],
                    detail: try Self.decode([String: String].self, $0["detail"]), previousDigest: $0["previous_digest"],
                    digest: $0["digest"])
            }
        }
    }

    public func appendAudit(actor: String, action: String, subject: String, detail: [String: String]) throws {
        try queue.write { db in try self.audit(db, actor: actor, action: action, subject: subject, detail: detail) }
    }

    func audit(_ db: Database, actor: String, action: String, subject: String, detail: [String: String]) throws {
        let last = try Row.fetchOne(db, sql: "SELECT sequence, digest FROM audit_log ORDER BY sequence DESC LIMIT 1")
        let sequence = (last?["sequence"] as Int? ?? 0) + 1
        let previous = last?["digest"] as String? ?? AuditChain.genesis
        let at = Timestamp.nowMillis()
        let detailText = try Self.json(detail)
        let digest = AuditChain.digest(
            sequence: sequence, at: at, actor: actor, action: action, subject: subject, detail: detailText, previous: previous)
        try db.execute(
            sql: "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [sequence, at, actor, action, subject, detailText, previous, digest])
    }
}
