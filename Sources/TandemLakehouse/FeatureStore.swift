import Foundation
import GRDB
import TandemCore
import TandemStorage

/// The feature store of one environment, in its `features` root: bronze, silver and quarantine tables in
/// SQLite (`lakehouse.sqlite`), gold tables as immutable files under `gold/`, and the registry of feature
/// definitions and feature table versions.
public final class FeatureStore: @unchecked Sendable {
    /// The root folder.
    public let root: String
    let queue: DatabaseQueue

    /// Opens the store in `root` (the caller has claimed the root for its environment).
    public init(root: String) throws(StoreError) {
        self.root = root
        queue = try SQLiteDatabase.open(
            path: (root as NSString).appendingPathComponent("lakehouse.sqlite"),
            migrations: Self.migrations)
    }

    static let migrations: [(String, @Sendable (Database) throws -> Void)] = [
        (
            "v1",
            { db in
                try db.execute(
                    sql: """
                        CREATE TABLE bronze_files(
                            id INTEGER PRIMARY KEY, kind TEXT NOT NULL, source_path TEXT NOT NULL, digest TEXT NOT NULL,
                            line_count INTEGER NOT NULL, byte_count INTEGER NOT NULL, ingested_at TEXT NOT NULL,
                            path TEXT NOT NULL, index_path TEXT NOT NULL, UNIQUE(kind, digest));
                        CREATE TABLE silver_versions(
                            id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, videos_file INTEGER NOT NULL,
                            judgments_file INTEGER NOT NULL, digest TEXT NOT NULL, report TEXT NOT NULL, path TEXT NOT NULL);
                        CREATE TABLE silver_videos(
                            video_url TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL, channel TEXT NOT NULL,
                            duration_s INTEGER NOT NULL, views INTEGER NOT NULL, published TEXT NOT NULL) WITHOUT ROWID;
                        CREATE TABLE quarantine(
                            silver_version INTEGER NOT NULL, kind TEXT NOT NULL, file TEXT NOT NULL, line_no INTEGER NOT NULL,
                            reason TEXT NOT NULL, content BLOB NOT NULL);
                        CREATE INDEX quarantine_by_version ON quarantine(silver_version, reason);
                        CREATE TABLE feature_definitions(
                            feature_set TEXT NOT NULL, set_version INTEGER NOT NULL, position INTEGER NOT NULL,
                            name TEXT NOT NULL, type TEXT NOT NULL, description TEXT NOT NULL, owner TEXT NOT NULL,
                            version INTEGER NOT NULL, PRIMARY KEY(feature_set, position));
                        CREATE TABLE feature_tables(
                            feature_set TEXT NOT NULL, version INTEGER NOT NULL, created_at TEXT NOT NULL,
                            row_count INTEGER NOT NULL, digest TEXT NOT NULL, schema TEXT NOT NULL, lineage TEXT NOT NULL,
                            path TEXT NOT NULL, PRIMARY KEY(feature_set, version));
                        CREATE TRIGGER feature_tables_immutable BEFORE UPDATE ON feature_tables
                        BEGIN SELECT RAISE(ABORT, 'feature table versions are immutable'); END;
                        """)
            }
        ),
        (
            // Each quarantined line says in words what is wrong with it; lines quarantined before have none.
            "v2-quarantine-detail",
            { db in try db.execute(sql: "ALTER TABLE quarantine ADD COLUMN detail TEXT NOT NULL DEFAULT ''") }
        ),
    ]

    // MARK: Feature tables

    /// Every registered version of a feature set (all sets when nil), oldest first.
    public func featureTables(set: String? = nil) throws -> [FeatureTableVersion] {
        try queue.read { db in
            let rows: [Row]
            if let set {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM feature_tables WHERE feature_set = ? ORDER BY version", arguments: [set])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM feature_tables ORDER BY feature_set, version")
            }
            return try rows.map(Self.decodeTable)
        }
    }

    /// A version by reference; `relevance_v1` alone means the latest.
    public func featureTable(_ reference: FeatureTableReference) throws -> FeatureTableVersion {
        let all = try featureTables(set: reference.featureSet)
        let hit = reference.version.map { v in all.first { $0.version == v } } ?? all.last
        guard let hit else { throw FeatureStoreError.noFeatureTable(reference.description) }
        return hit
    }

    static func decodeTable(_ row: Row) throws -> FeatureTableVersion {
        let decoder = JSONDecoder()
        return FeatureTableVersion(
            featureSet: row["feature_set"], version: row["version"], createdAt: row["created_at"],
            rowCount: row["row_count"], digest: row["digest"],
            schema: try decoder.decode([FeatureDefinition].self, from: Data((row["schema"] as String).utf8)),
            lineage: try decoder.decode(FeatureTableVersion.Lineage.self, from: Data((row["lineage"] as String).utf8)),
            path: row["path"])
    }

    /// The folder of a registered gold table.
    public func goldFolder(of table: FeatureTableVersion) -> String {
        (root as NSString).appendingPathComponent(table.path)
    }

    /// Registers a gold table written in `stagingFolder` as the next version of its set, atomically: the folder
    /// is renamed into place inside the transaction that records it, so a failure leaves the previous latest.
    public func register(
        stagingFolder: String, featureSet: FeatureSet, rowCount: Int, digest: String,
        lineage: FeatureTableVersion.Lineage
    ) throws -> FeatureTableVersion {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let schema = String(decoding: try encoder.encode(featureSet.features), as: UTF8.self)
        let lineageText = String(decoding: try encoder.encode(lineage), as: UTF8.self)
        return try queue.write { db in
            try self.recordDefinitions(featureSet, db)
            let next =
                (try Int.fetchOne(
                    db, sql: "SELECT MAX(version) FROM feature_tables WHERE feature_set = ?",
                    arguments: [featureSet.name]) ?? 0) + 1
            let relative = "gold/\(featureSet.name)/v\(next)"
            let final = (self.root as NSString).appendingPathComponent(relative)
            try? FileManager.default.removeItem(atPath: final)  // an unregistered leftover of a crashed run
            try FileManager.default.createDirectory(
                atPath: (final as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            let table = FeatureTableVersion(
                featureSet: featureSet.name, version: next, createdAt: Timestamp.now(), rowCount: rowCount,
                digest: digest, schema: featureSet.features, lineage: lineage, path: relative)
            try db.execute(
                sql: "INSERT INTO feature_tables VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    table.featureSet, table.version, table.createdAt, table.rowCount, table.digest, schema,
                    lineageText, relative,
                ])
            guard rename(stagingFolder, final) == 0 else {
                throw StoreError("\(final): cannot move the gold table into place (\(String(cString: strerror(errno))))")
            }
            return table
        }
    }

    private func recordDefinitions(_ set: FeatureSet, _ db: Database) throws {
        for (i, f) in set.features.enumerated() {
            try db.execute(
                sql: """
                    INSERT INTO feature_definitions VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(feature_set, position) DO UPDATE SET name = excluded.name, type = excluded.type,
                    description = excluded.description, owner = excluded.owner, version = excluded.version,
                    set_version = excluded.set_version
                    """,
                arguments: [set.name, set.version, i, f.name, f.type.rawValue, f.description, f.owner, f.version])
        }
    }

    // MARK: Silver

    /// The silver videos of the latest silver version, in URL order: the corpus of the feature code path.
    public func silverVideos() throws -> [VideoRecord] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM silver_videos ORDER BY video_url").map { row in
                VideoRecord(
                    url: row["video_url"], title: row["title"], description: row["description"], channel: row["channel"],
                    durationS: row["duration_s"], views: row["views"],
                    published: DataTimestamp(row["published"] as String) ?? DataTimestamp(seconds: 0))
            }
        }
    }

    /// The latest silver version's id and digest.
    public func latestSilver() throws -> (id: Int64, digest: String)? {
        try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT id, digest FROM silver_versions ORDER BY id DESC LIMIT 1").map {
                (id: $0["id"], digest: $0["digest"])
            }
        }
    }
}
