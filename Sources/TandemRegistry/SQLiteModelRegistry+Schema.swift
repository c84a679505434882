import GRDB

/// The registry database's schema, as migrations.
extension SQLiteModelRegistry {
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
}
