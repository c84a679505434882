import Foundation
import GRDB
import GRDBSQLite
import TandemCore

/// Errors of the embedded SQLite stores; the message names the database file.
public struct StoreError: TandemError {
    public var description: String
    public var exitStatus: ExitStatus
    /// SQLite's primary result code (`SQLITE_NOTADB`, `SQLITE_CANTOPEN`, …) when SQLite failed, for callers that
    /// decide on the kind of failure.
    public var sqliteCode: Int32?

    public init(_ description: String, exitStatus: ExitStatus = .infrastructure, sqliteCode: Int32? = nil) {
        self.description = description
        self.exitStatus = exitStatus
        self.sqliteCode = sqliteCode
    }
}

/// Opens the SQLite databases of a root: WAL journal, foreign keys on, a busy timeout so that two stages
/// of one environment wait for each other instead of failing.
public enum SQLiteDatabase {
    /// Opens (creating if needed) the database at `path` and runs `migrations` in order, once each.
    public static func open(path: String, migrations: [(String, @Sendable (Database) throws -> Void)]) throws(StoreError)
        -> DatabaseQueue
    {
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
            return queue
        } catch {
            throw StoreError(
                "\(path): cannot open the database (\(describe(error))); check the root's permissions and free space",
                sqliteCode: (error as? DatabaseError)?.resultCode.primaryResultCode.rawValue)
        }
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
