import Foundation
import GRDB
public import TandemCore
import TandemStorage

/// The embedded registry of a `file://` root: SQLite (`registry.sqlite`) for metadata, every write in one
/// transaction with its audit entry, and a content-addressed artifact store (`artifacts/sha256/AB/DIGEST`).
public final class SQLiteModelRegistry: ModelRegistry, @unchecked Sendable {
    public let root: String
    let queue: DatabaseQueue
    /// Decoded versions by `name@version`: versions are immutable, so a decoded one never goes stale.
    private var versionCache: [String: ModelVersion] = [:]
    private let cacheLock = NSLock()

    /// The database file of a registry root.
    public static let databaseName = "registry.sqlite"

    /// Opens the registry of a root, creating its database only when the root holds no registry yet.
    ///
    /// - Throws: `Failure` `.tampered` (exit 3) when the database is missing from a root that holds a
    ///   registry's other files (its artifacts, its write-ahead log), or is not a SQLite database;
    ///   `.unreachable` (exit 3) when it cannot be opened. A damaged registry is never opened as an empty one.
    public init(root: String) throws(Failure) {
        self.root = root
        let path = (root as NSString).appendingPathComponent(Self.databaseName)
        do {
            // The artifact store must be this root's own folder, not a link to another's.
            try RootGuard.contained((root as NSString).appendingPathComponent("artifacts/sha256"), in: root)
        } catch {
            throw Failure(.tampered, error.description)
        }
        if !FileManager.default.fileExists(atPath: path), let left = Self.registryFiles(in: root).first {
            throw Failure(
                .tampered,
                "\(path) is missing, but the root holds a registry's \(left): its database was removed or moved; "
                    + "restore it (a backup, or the root's right path in the profile) rather than start an empty registry")
        }
        do {
            queue = try SQLiteDatabase.open(path: path, migrations: Self.migrations)
        } catch {
            let damaged =
                error.refusal != nil
                || [ResultCode.SQLITE_NOTADB.rawValue, ResultCode.SQLITE_CORRUPT.rawValue].contains(error.sqliteCode ?? 0)
            throw Failure(damaged ? .tampered : .unreachable, error.description)
        }
    }

    /// The files a registry writes beside its database, found in `root` (empty for a root that holds no registry).
    public static func registryFiles(in root: String) -> [String] {
        let fm = FileManager.default
        var found: [String] = []
        let artifacts = (root as NSString).appendingPathComponent("artifacts")
        if let entries = try? fm.contentsOfDirectory(atPath: artifacts), !entries.isEmpty { found.append("artifacts") }
        for suffix in ["-wal", "-shm"]
        where fm.fileExists(atPath: (root as NSString).appendingPathComponent(databaseName + suffix)) {
            found.append(databaseName + suffix)
        }
        return found
    }

    /// Whether `root` holds a registry (its database or its other files).
    public static func holdsRegistry(_ root: String) -> Bool {
        FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent(databaseName))
            || !registryFiles(in: root).isEmpty
    }

    /// A read of the database; SQLite's failures become registry errors by their result code.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.read(body) } catch { throw Self.registryError(error, database: databasePath) }
    }

    /// A write transaction; SQLite's failures become registry errors by their result code.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.write(body) } catch { throw Self.registryError(error, database: databasePath) }
    }

    /// The database file of this registry.
    var databasePath: String { (root as NSString).appendingPathComponent(Self.databaseName) }

    /// A registry error for what a read or write threw, decided on SQLite's result code: a constraint (a run id
    /// that exists, the immutability trigger) is `.conflict`; a corrupt file `.tampered`; a file that cannot be
    /// opened, read or written `.unreachable`; anything else `.failed`. A row that does not decode is `.tampered`.
    static func registryError(_ error: any Error, database: String? = nil) -> Failure {
        if let e = error as? Failure { return e }
        if let db = error as? DatabaseError {
            let place =
                database.map { "\($0): registry database in the root \(($0 as NSString).deletingLastPathComponent): " }
                ?? "registry database: "
            let description = place + SQLiteDatabase.describe(db)
            switch db.resultCode.primaryResultCode {
            case .SQLITE_CONSTRAINT: return Failure(.conflict, description)
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: return Failure(.tampered, description)
            case .SQLITE_CANTOPEN, .SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_FULL:
                return Failure(.unreachable, description)
            default: return Failure(.failed, description)
            }
        }
        if error is DecodingError { return Failure(.tampered, "a registry row does not decode: \(error)") }
        return Failure(.failed, "\(error)")
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    // MARK: Models

    public func createVersion(_ version: ModelVersion, actor: String) throws -> ModelVersion {
        guard FileManager.default.fileExists(atPath: artifactPath(version.artifactDigest)) else {
            throw Failure(.invalidInput, "artifact \(version.artifactDigest.prefix(12))… is not in this registry; store it first")
        }
        return try write { db in
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
            try self.audit(
                db, actor: actor, action: v.copiedFrom == nil ? "version.create" : "version.copy", subject: v.reference,
                detail: v.auditDetail)
            return v
        }
    }

    public func version(_ reference: ModelReference) throws -> ModelVersion {
        let (name, number): (String, Int?) = try read { db in
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
        guard let number else {
            throw Failure(.notFound, "no model version \(reference) in this registry; see `tandem models list`")
        }
        let key = "\(name)@\(number)"
        cacheLock.lock()
        let cached = versionCache[key]
        cacheLock.unlock()
        if let cached { return cached }
        let body = try read { db in
            try String.fetchOne(
                db, sql: "SELECT body FROM model_versions WHERE name = ? AND version = ?", arguments: [name, number])
        }
        guard let body else {
            if case .alias = reference {
                // The alias exists but its version does not: the registry was altered, not "no such alias".
                throw Failure(
                    .tampered, "\(reference) points at version \(number), which is not in this registry; it was altered")
            }
            throw Failure(.notFound, "no model version \(reference) in this registry; see `tandem models list`")
        }
        let version: ModelVersion
        do { version = try Self.decode(ModelVersion.self, body) } catch { throw Self.registryError(error) }
        cacheLock.lock()
        versionCache[key] = version
        cacheLock.unlock()
        return version
    }

    public func versions(name: String) throws -> [ModelVersion] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT body FROM model_versions WHERE name = ? ORDER BY version", arguments: [name])
                .map { try Self.decode(ModelVersion.self, $0) }
        }
    }

    public func models() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT name FROM registered_models ORDER BY name") }
    }

    public func setAlias(name: String, alias: String, version: Int, actor: String) throws {
        guard Int(alias) == nil, !alias.isEmpty, !alias.contains("@") else {
            throw Failure(.invalidInput, "'\(alias)' cannot be an alias; an alias is a name such as champion (not a number)")
        }
        try write { db in
            guard
                try Int.fetchOne(
                    db, sql: "SELECT 1 FROM model_versions WHERE name = ? AND version = ?", arguments: [name, version]) != nil
            else {
                throw Failure(.notFound, "no model version \(name)@\(version); an alias must point at an existing version")
            }
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
        try write { db in
            let previous = try Int.fetchOne(
                db, sql: "SELECT version FROM aliases WHERE name = ? AND alias = ?", arguments: [name, alias])
            guard let previous else { throw Failure(.notFound, "no alias \(name)@\(alias)") }
            try db.execute(sql: "DELETE FROM aliases WHERE name = ? AND alias = ?", arguments: [name, alias])
            try self.audit(
                db, actor: actor, action: "alias.delete", subject: "\(name)@\(alias)", detail: ["previous": String(previous)])
        }
    }

    public func aliases(name: String) throws -> [String: Int] {
        try read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(
                    db, sql: "SELECT alias, version FROM aliases WHERE name = ?", arguments: [name]
                ).map {
                    ($0["alias"] as String, $0["version"] as Int)
                })
        }
    }
}
