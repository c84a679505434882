public import Foundation
public import TandemCore

/// An environment's promotion state in a PostgreSQL database (`roots.state: postgres://…`): the promotions and
/// their journal, the promotion locks and the webhook outbox, shared by every runner that names the same database.
///
/// Opening it connects, applies the schema migrations Tandem has and the database lacks (in order, each in its
/// own transaction, under an advisory lock so two runners starting at once migrate it once), and checks the
/// database's owner: the first environment to use a database stamps it with its name, and any other environment
/// is refused, as a `file://` root's stamp refuses it.
public final class PostgresState: @unchecked Sendable {
    public let connection: PostgresConnection
    public let environment: String

    /// The schema, as versioned migrations: applied in order, never edited once released (a change is a new one).
    public static let migrations: [(version: String, sql: String)] = [
        (
            "1-state",
            """
            CREATE TABLE tandem_owner(
                only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row), environment TEXT NOT NULL, stamped_at TEXT NOT NULL);
            CREATE TABLE tandem_promotions(
                id TEXT PRIMARY KEY, requested_at TEXT NOT NULL, target TEXT NOT NULL, model TEXT NOT NULL, body TEXT NOT NULL);
            CREATE INDEX tandem_promotions_requested ON tandem_promotions(requested_at DESC);
            CREATE TABLE tandem_journal(
                promotion_id TEXT NOT NULL, step TEXT NOT NULL, status TEXT NOT NULL, at TEXT NOT NULL, detail TEXT NOT NULL,
                PRIMARY KEY (promotion_id, step));
            CREATE TABLE tandem_locks(target TEXT PRIMARY KEY, promotion_id TEXT NOT NULL, at TEXT NOT NULL);
            CREATE TABLE tandem_outbox(
                seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, stream TEXT NOT NULL, message TEXT NOT NULL,
                state TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at DOUBLE PRECISION NOT NULL,
                created_epoch DOUBLE PRECISION NOT NULL, last_status INTEGER, last_error TEXT, last_response TEXT,
                delivered_at TEXT, claimed_by TEXT, claimed_until DOUBLE PRECISION NOT NULL DEFAULT 0);
            CREATE INDEX tandem_outbox_pending ON tandem_outbox(stream, seq) WHERE state = 'pending';
            CREATE INDEX tandem_outbox_state ON tandem_outbox(state, seq);
            """
        )
    ]

    /// The advisory lock key under which migrations run (any constant of Tandem's own).
    static let migrationLock = "7251738291003"

    /// Connects to `location`, migrates it, and checks (or stamps) that it is `environment`'s.
    public init(
        _ location: PostgresLocation, environment: String,
        variables: [String: String] = ProcessInfo.processInfo.environment,
        resolve: @escaping @Sendable (String) -> String = { $0 }
    ) throws {
        connection = try PostgresConnection(location, environment: variables, resolve: resolve)
        self.environment = environment
        try migrate()
        try checkOwner()
    }

    /// The versions applied, in order.
    public func appliedMigrations() throws -> [String] {
        try connection.execute("SELECT version FROM tandem_migrations ORDER BY applied_order").map { $0[0] ?? "" }
    }

    private func migrate() throws {
        try connection.transaction {
            // Serialises migrators (another runner opening the same database now) until this transaction ends.
            try connection.execute("SELECT pg_advisory_xact_lock($1::bigint)", [Self.migrationLock])
            try connection.execute(
                """
                CREATE TABLE IF NOT EXISTS tandem_migrations(
                    version TEXT PRIMARY KEY, applied_order INTEGER NOT NULL, applied_at TEXT NOT NULL)
                """)
            let applied = try connection.execute("SELECT version FROM tandem_migrations ORDER BY applied_order").map { $0[0] }
            let known = Self.migrations.map(\.version)
            for (i, version) in applied.enumerated() where i >= known.count || known[i] != version {
                throw Failure(
                    .conflict,
                    "the PostgreSQL state root \(connection.location) has schema migration '\(version ?? "")' that this "
                        + "version of Tandem does not know (it knows " + known.joined(separator: ", ")
                        + "); run a Tandem at least as new as the one that migrated it")
            }
            for (i, migration) in Self.migrations.enumerated() where i >= applied.count {
                for statement in migration.sql.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) })
                where !statement.isEmpty {
                    try connection.execute(statement)
                }
                try connection.execute(
                    "INSERT INTO tandem_migrations VALUES ($1, $2, $3)", [migration.version, String(i), Timestamp.nowMillis()])
            }
        }
    }

    private func checkOwner() throws {
        let owner = try connection.transaction { () throws -> String? in
            try connection.execute(
                "INSERT INTO tandem_owner(environment, stamped_at) VALUES ($1, $2) ON CONFLICT (only_row) DO NOTHING",
                [environment, Timestamp.nowMillis()])
            return try connection.execute("SELECT environment FROM tandem_owner").first?[0] ?? nil
        }
        guard owner == environment else {
            throw Failure(
                .invalidInput,
                "the PostgreSQL state root \(connection.location) holds the state of environment '\(owner ?? "?")'; a stage "
                    + "for '\(environment)' refuses to write into it. Give '\(environment)' a database of its own in "
                    + "environments/\(environment).yaml")
        }
    }
}
