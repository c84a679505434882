import Foundation
public import GRDB
import GRDBSQLite
public import TandemCore

#if canImport(Glibc)
    import Glibc
    private func systemOpen(_ path: String, _ flags: Int32) -> Int32 { Glibc.open(path, flags) }
#else
    import Darwin
    private func systemOpen(_ path: String, _ flags: Int32) -> Int32 { Darwin.open(path, flags) }
#endif

/// Errors of the embedded SQLite stores; the message names the database file.
public struct StoreError: TandemError {
    public var description: String
    public var exitStatus: ExitStatus
    /// SQLite's primary result code (`SQLITE_NOTADB`, `SQLITE_CANTOPEN`, …) when SQLite failed, for callers that
    /// decide on the kind of failure.
    public var sqliteCode: Int32?
    /// Set when the isolation check refused a file of the store (a link out of its root).
    public var refusal: RootAccessError.Kind?

    public init(
        _ description: String, exitStatus: ExitStatus = .infrastructure, sqliteCode: Int32? = nil,
        refusal: RootAccessError.Kind? = nil
    ) {
        self.description = description
        self.exitStatus = exitStatus
        self.sqliteCode = sqliteCode
        self.refusal = refusal
    }
}

/// Opens the SQLite databases of a root: WAL journal, foreign keys on, a busy timeout so that two stages
/// of one environment wait for each other instead of failing.
public enum SQLiteDatabase {
    /// The files of one database: the database itself, its write-ahead log, its shared memory, its rollback journal.
    public static let sidecars = ["", "-wal", "-shm", "-journal"]

    /// Opens (creating if needed) the database at `path` and runs `migrations` in order, once each.
    ///
    /// The database and its sidecar files must stay inside the folder that holds them (the root): none may be
    /// a symbolic link or a hard link shared with another file (`RootGuard.contained`), checked before SQLite
    /// opens them and again once it has.
    ///
    /// - Throws: `StoreError` (exit 3) naming the database, for a link (its `sqliteCode` is nil) or a database
    ///   SQLite cannot open.
    public static func open(path: String, migrations: [(String, @Sendable (Database) throws -> Void)]) throws(StoreError)
        -> DatabaseQueue
    {
        try checkFiles(path)
        // Two processes opening a new database at once would both run its first migration ("table already
        // exists"): opening and migrating hold an exclusive lock on the folder (flock, which SQLite's own fcntl
        // locks do not interact with). Where the file system has no flock, the open goes on unlocked.
        let folder = systemOpen((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 { _ = flock(folder, LOCK_EX) }
        defer {
            if folder >= 0 {
                _ = flock(folder, LOCK_UN)
                close(folder)
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
        }
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            var migrator = DatabaseMigrator()
            for (name, body) in migrations { migrator.registerMigration(name, migrate: body) }
            try migrator.migrate(queue)
            try checkFiles(path)
            return queue
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(
                "\(path): cannot open the database (\(describe(error))); check the root's permissions and free space",
                sqliteCode: (error as? DatabaseError)?.resultCode.primaryResultCode.rawValue)
        }
    }

    /// Refuses a database whose file or sidecars are links out of the folder that holds them.
    static func checkFiles(_ path: String) throws(StoreError) {
        let root = (path as NSString).deletingLastPathComponent
        for suffix in sidecars {
            do {
                try RootGuard.contained(path + suffix, in: root)
            } catch {
                throw StoreError(error.description, exitStatus: error.exitStatus, refusal: error.kind)
            }
        }
    }

    /// A store error for what a read or write of the database at `path` threw: its description names the database,
    /// and a database that is full, read-only, cannot be opened or failed to read or write is exit 3.
    public static func storeError(_ error: any Error, path: String) -> any Error {
        guard let db = error as? DatabaseError else { return error }
        let root = (path as NSString).deletingLastPathComponent
        let advice: String
        switch db.resultCode.primaryResultCode {
        case .SQLITE_FULL: advice = "its file system is full: free space"
        case .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_AUTH: advice = "fix the root's permissions"
        case .SQLITE_IOERR: advice = "check the disk and free space"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: advice = "the database is damaged: restore it from a backup"
        default: advice = "check the root"
        }
        return StoreError(
            "\(path): the database failed in the root \(root) (\(describe(db))); \(advice), then run again "
                + "(the transaction was rolled back, nothing half-written was kept)",
            sqliteCode: db.resultCode.primaryResultCode.rawValue)
    }

    /// A database error that reached a stage untyped, as a store error (exit 3); nil for other errors.
    static func typed(_ error: any Error) -> StoreError? {
        guard let db = error as? DatabaseError else { return nil }
        return StoreError(
            "a database failed (\(describe(db))); free space on the root's file system or fix its permissions, "
                + "then run again", sqliteCode: db.resultCode.primaryResultCode.rawValue)
    }

    /// A short description of a database error, without SQL arguments (which may hold data).
    public static func describe(_ error: any Error) -> String {
        if let db = error as? DatabaseError { return db.message ?? "SQLite error \(db.resultCode.rawValue)" }
        return String(describing: error)
    }
}

/// A prepared INSERT bound column by column through SQLite's C API, for bulk loads of millions of rows
/// where building argument arrays per row would dominate.
public struct BulkInsert {
    private let statement: Statement
    private var column: Int32 = 1
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Prepares `sql` (an INSERT with `?` placeholders) on `db`.
    public init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
    }

    /// Binds the next column to an integer.
    public mutating func bind(_ value: Int64) {
        sqlite3_bind_int64(statement.sqliteStatement, column, value)
        column += 1
    }

    /// Binds the next column to text.
    public mutating func bind(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            _ = sqlite3_bind_text(statement.sqliteStatement, column, utf8.baseAddress, Int32(utf8.count), Self.transient)
        }
        column += 1
    }

    /// Binds the next column to a blob.
    public mutating func bind(bytes: UnsafeRawBufferPointer) {
        sqlite3_bind_blob(statement.sqliteStatement, column, bytes.baseAddress, Int32(bytes.count), Self.transient)
        column += 1
    }

    /// Runs the statement with the bound columns and resets it for the next row.
    public mutating func step() throws {
        let code = sqlite3_step(statement.sqliteStatement)
        sqlite3_reset(statement.sqliteStatement)
        column = 1
        guard code == SQLITE_DONE else {
            throw StoreError("insert failed (SQLite \(code)): \(String(cString: sqlite3_errstr(code)))")
        }
    }
}
