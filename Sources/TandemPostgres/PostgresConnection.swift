public import Foundation
import TandemCLibpq
public import TandemCore

/// One connection to a PostgreSQL server through libpq, used from one thread at a time (calls are serialised).
///
/// Statements take text parameters (`$1`, `$2`, …) and answer rows of text values, as libpq's text protocol gives
/// them. A connection that the server dropped (a restart, a network cut) is re-established once before the next
/// statement, and a transaction that failed because the connection broke is run again on the new one; anything else
/// is reported, never retried. No password ever appears in an error: libpq's messages carry none, and the variable
/// is named, not its value.
public final class PostgresConnection: @unchecked Sendable {
    public let location: PostgresLocation
    private let password: String?
    private let resolve: @Sendable (String) -> String
    private var connection: OpaquePointer?
    private let lock = NSRecursiveLock()
    private var inTransaction = false

    /// A statement's rows: each row a list of values in column order, nil for SQL NULL.
    public typealias Rows = [[String?]]

    /// Connects now, so a wrong address, role or password is reported where the root is first used.
    ///
    /// - Parameters:
    ///   - environment: where the password variable (`password_env`) is read.
    ///   - resolve: resolves a relative certificate path (against the repository root).
    public init(
        _ location: PostgresLocation, environment: [String: String] = ProcessInfo.processInfo.environment,
        resolve: @escaping @Sendable (String) -> String = { $0 }
    ) throws {
        self.location = location
        self.resolve = resolve
        if let variable = location.passwordEnv {
            guard let value = environment[variable], !value.isEmpty else {
                throw Failure(
                    .invalidInput,
                    "the state root \(location) names password_env=\(variable), and $\(variable) is not set; set it to "
                        + "the password of the database role")
            }
            password = value
        } else {
            password = nil
        }
        try connect()
    }

    deinit { if let connection { PQfinish(connection) } }

    private func connect() throws {
        if let connection { PQfinish(connection) }
        connection = nil
        var pairs: [(String, String)] = [
            ("host", location.host), ("port", String(location.port)), ("dbname", location.database),
            ("connect_timeout", String(location.connectTimeout)), ("application_name", "tandem"),
            // The server's own settings decide nothing about how values read back.
            ("client_encoding", "UTF8"),
        ]
        if let user = location.user { pairs.append(("user", user)) }
        if let password { pairs.append(("password", password)) }
        if let mode = location.sslMode { pairs.append(("sslmode", mode)) }
        if let path = location.sslRootCert { pairs.append(("sslrootcert", resolve(path))) }
        if let path = location.sslCert { pairs.append(("sslcert", resolve(path))) }
        if let path = location.sslKey { pairs.append(("sslkey", resolve(path))) }
        let keys = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        var keyPointers: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        let made = keyPointers.withUnsafeMutableBufferPointer { k in
            valuePointers.withUnsafeMutableBufferPointer { v in PQconnectdbParams(k.baseAddress, v.baseAddress, 0) }
        }
        guard let made else { throw Failure(.unreachable, "libpq could not allocate a connection to \(location)") }
        guard PQstatus(made) == CONNECTION_OK else {
            let why = Self.message(PQerrorMessage(made))
            PQfinish(made)
            throw Failure(
                .unreachable,
                "cannot connect to the PostgreSQL state root \(location): \(why); check that the server runs, the "
                    + "database exists and the role and password (password_env) are right")
        }
        // The server's notices ("relation … already exists, skipping") are not the user's business.
        _ = PQsetNoticeProcessor(made, { _, _ in }, nil)
        connection = made
    }

    /// Connects again after the connection broke, retrying for up to `connect_timeout` seconds: a server restarting
    /// (a failover, an upgrade) refuses connections for a moment, and a flush or a promotion carries on after it.
    private func reconnect() throws {
        let deadline = Date().addingTimeInterval(Double(location.connectTimeout))
        var pause = 0.05
        while true {
            do { return try connect() } catch {
                guard Date().addingTimeInterval(pause) < deadline else { throw error }
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 1)
            }
        }
    }

    private static func message(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "no message" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\n", with: " ")
    }

    /// A failed statement: what the server said, its SQLSTATE, and whether the connection itself broke.
    public struct StatementError: TandemError {
        public var sqlState: String?
        public var message: String
        public var connectionLost: Bool
        public var location: String
        public var description: String {
            connectionLost
                ? "the connection to the PostgreSQL state root \(location) was lost: \(message)"
                : "PostgreSQL (\(location)) refused a statement: \(message)" + (sqlState.map { " [SQLSTATE \($0)]" } ?? "")
        }
        public var code: Failure.Code {
            if connectionLost { return .unreachable }
            // 23xxx: an integrity constraint (a duplicate id, a missing reference).
            if sqlState?.hasPrefix("23") == true { return .conflict }
            return .failed
        }
        public var exitStatus: ExitStatus { code.exitStatus }
        /// A unique constraint (`23505`).
        public var isUniqueViolation: Bool { sqlState == "23505" }
    }

    /// Runs one statement with text parameters and returns its rows (none for a command).
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws -> Rows {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try run(sql, parameters)
        } catch let error as StatementError where error.connectionLost && !inTransaction {
            try reconnect()
            return try run(sql, parameters)
        }
    }

    /// Runs `body` in one transaction (`BEGIN` … `COMMIT`; `ROLLBACK` when it throws). A transaction whose connection
    /// broke is run once more, whole, on a new connection: `body` must only touch the database.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        precondition(!inTransaction, "PostgreSQL transactions do not nest")
        do {
            return try attemptTransaction(body)
        } catch let error as StatementError where error.connectionLost {
            try reconnect()
            return try attemptTransaction(body)
        }
    }

    private func attemptTransaction<T>(_ body: () throws -> T) throws -> T {
        if connection == nil || PQstatus(connection) != CONNECTION_OK { try reconnect() }
        try run("BEGIN", [])
        inTransaction = true
        defer { inTransaction = false }
        do {
            let value = try body()
            try run("COMMIT", [])
            return value
        } catch {
            if PQstatus(connection) == CONNECTION_OK { _ = try? run("ROLLBACK", []) }
            throw error
        }
    }

    @discardableResult
    private func run(_ sql: String, _ parameters: [String?]) throws -> Rows {
        if connection == nil || (PQstatus(connection) != CONNECTION_OK && !inTransaction) { try reconnect() }
        let copies = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        let result = pointers.withUnsafeMutableBufferPointer { p in
            PQexecParams(connection, sql, Int32(parameters.count), nil, p.baseAddress, nil, nil, 0)
        }
        defer { PQclear(result) }
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        switch status {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return []
        case PGRES_TUPLES_OK:
            let rows = Int(PQntuples(result))
            let columns = Int(PQnfields(result))
            var out: Rows = []
            out.reserveCapacity(rows)
            for r in 0..<rows {
                var row: [String?] = []
                row.reserveCapacity(columns)
                for c in 0..<columns {
                    if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                        row.append(nil)
                    } else {
                        row.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                    }
                }
                out.append(row)
            }
            return out
        default:
            let lost = PQstatus(connection) != CONNECTION_OK
            let state = result.flatMap { PQresultErrorField($0, tandem_pq_diag_sqlstate()) }.map { String(cString: $0) }
            let text =
                result.flatMap { PQresultErrorField($0, tandem_pq_diag_message_primary()) }.map { String(cString: $0) }
                ?? Self.message(PQerrorMessage(connection))
            throw StatementError(sqlState: state, message: text, connectionLost: lost, location: location.description)
        }
    }
}
