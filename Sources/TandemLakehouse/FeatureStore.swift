import Foundation
import GRDB
import TandemCore
public import TandemFeatures
public import TandemStorage

/// The feature store of one environment, in its `features` root: bronze, silver and quarantine tables in
/// SQLite (`lakehouse.sqlite`), gold tables as immutable files under `gold/`, and the registry of feature
/// definitions and feature table versions.
public final class FeatureStore: @unchecked Sendable {
    /// The root folder.
    public let root: String
    let queue: DatabaseQueue

    /// The database file.
    public var databasePath: String { (root as NSString).appendingPathComponent("lakehouse.sqlite") }

    /// Opens the store in `root` (the caller has claimed or opened the root through `RootGuard`).
    public init(root: String) throws(StoreError) {
        self.root = root
        queue = try SQLiteDatabase.open(
            path: (root as NSString).appendingPathComponent("lakehouse.sqlite"),
            migrations: Self.migrations)
    }

    /// A write transaction: serialised with every other writer of this store (SQLite's write lock, taken at
    /// its start), rolled back on any failure; database failures name the database and the root (exit 3).
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.write(body) } catch { throw SQLiteDatabase.storeError(error, path: databasePath) }
    }

    /// Runs a body that writes files under `path` in this root; a file-system failure names the file and the
    /// root (exit 3) instead of reaching the stage untyped.
    public func writing<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw WriteFailure.error(error, path: path, root: root) }
    }

    /// A new staging path for `layer` (`silver`, `gold`, `bronze/KIND`), owned by this process: its parent is
    /// created inside the root, and no link on the way leads out of it.
    public func newStaging(_ layer: String) throws -> String {
        let folder = try RootGuard.createFolder((root as NSString).appendingPathComponent(layer), in: root)
        return try RootGuard.contained((folder as NSString).appendingPathComponent(Staging.name()), in: root)
    }

    /// Removes the staging entries (bronze copies, line indexes, silver and gold folders) that killed runs left
    /// behind: those whose owning process is gone (`Staging`); a concurrent run's staging is kept.
    @discardableResult
    public func reclaimStaging() -> [String] { Self.reclaimStaging(root: root) }

    /// `reclaimStaging()` for the feature store in `root`, without opening its database.
    @discardableResult
    public static func reclaimStaging(root: String) -> [String] {
        var folders = ["silver", "gold"].map { (root as NSString).appendingPathComponent($0) }
        let bronze = (root as NSString).appendingPathComponent("bronze")
        if (try? RootGuard.contained(bronze, in: root)) != nil {
            for kind in (try? FileManager.default.contentsOfDirectory(atPath: bronze)) ?? [] where !kind.hasPrefix(".") {
                folders.append((bronze as NSString).appendingPathComponent(kind))
            }
        }
        return folders.flatMap { Staging.reclaim(in: $0, root: root) }
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
        (
            // Feature views as data (docs/features.md): every version of a view's definition, kept as declared,
            // and the view version each feature table was computed with.
            "v3-feature-views",
            { db in
                try db.execute(
                    sql: """
                        CREATE TABLE feature_view_versions(
                            view TEXT NOT NULL, version INTEGER NOT NULL, digest TEXT NOT NULL, file TEXT NOT NULL,
                            source TEXT NOT NULL, normalized TEXT NOT NULL, created_at TEXT NOT NULL,
                            PRIMARY KEY(view, version), UNIQUE(view, digest));
                        CREATE TRIGGER feature_view_versions_immutable BEFORE UPDATE ON feature_view_versions
                        BEGIN SELECT RAISE(ABORT, 'feature view versions are immutable'); END;
                        CREATE TABLE feature_table_views(
                            feature_set TEXT NOT NULL, version INTEGER NOT NULL, view_version INTEGER NOT NULL,
                            statistics_digest TEXT NOT NULL, PRIMARY KEY(feature_set, version));
                        CREATE TABLE silver_video_versions(
                            video_url TEXT NOT NULL, observed_at TEXT NOT NULL, title TEXT NOT NULL,
                            description TEXT NOT NULL, channel TEXT NOT NULL, duration_s INTEGER NOT NULL,
                            views INTEGER NOT NULL, published TEXT NOT NULL, PRIMARY KEY(video_url, observed_at))
                            WITHOUT ROWID;
                        INSERT INTO silver_video_versions
                            SELECT video_url, '0001-01-01T00:00:00Z', title, description, channel, duration_s, views, published
                            FROM silver_videos;
                        """)
            }
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
    ///
    /// Registration holds the store's write lock from the check to the record: when the latest version of the set
    /// already has this content digest (a concurrent ETL of the same input registered it first), nothing new is
    /// registered and that version is returned with `isNew` false; the caller's staging folder stays its own to
    /// remove.
    public func register(
        stagingFolder: String, view: FeatureView, statistics: CorpusStatistics, rowCount: Int, digest: String,
        lineage: FeatureTableVersion.Lineage
    ) throws -> (table: FeatureTableVersion, isNew: Bool) {
        let statisticsBytes = try statistics.encoded()
        let statisticsDigest = ContentDigest.sha256Hex(statisticsBytes)
        let statisticsFile = (stagingFolder as NSString).appendingPathComponent(Self.statisticsFile)
        try writing(statisticsFile) {
            try statisticsBytes.write(to: URL(fileURLWithPath: statisticsFile), options: .withoutOverwriting)
        }
        let featureSet = view.featureSet
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let schema = String(decoding: try encoder.encode(featureSet.features), as: UTF8.self)
        let lineageText = String(decoding: try encoder.encode(lineage), as: UTF8.self)
        try RootGuard.contained(stagingFolder, in: root)
        return try write { db in
            if let latest = try Row.fetchOne(
                db, sql: "SELECT * FROM feature_tables WHERE feature_set = ? ORDER BY version DESC LIMIT 1",
                arguments: [featureSet.name]), latest["digest"] as String == digest
            {
                return (try Self.decodeTable(latest), false)
            }
            try self.recordDefinitions(featureSet, db)
            let viewVersion = try self.recordView(view, db)
            let next =
                (try Int.fetchOne(
                    db, sql: "SELECT MAX(version) FROM feature_tables WHERE feature_set = ?",
                    arguments: [featureSet.name]) ?? 0) + 1
            let relative = "gold/\(featureSet.name)/v\(next)"
            let final = try RootGuard.file(relative, in: self.root)
            try self.removeLeftover(final)
            _ = try RootGuard.createFolder((final as NSString).deletingLastPathComponent, in: self.root)
            let table = FeatureTableVersion(
                featureSet: featureSet.name, version: next, createdAt: Timestamp.now(), rowCount: rowCount,
                digest: digest, schema: featureSet.features, lineage: lineage, path: relative)
            try db.execute(
                sql: "INSERT INTO feature_tables VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    table.featureSet, table.version, table.createdAt, table.rowCount, table.digest, schema,
                    lineageText, relative,
                ])
            try db.execute(
                sql: "INSERT INTO feature_table_views VALUES (?, ?, ?, ?)",
                arguments: [table.featureSet, next, viewVersion, statisticsDigest])
            guard rename(stagingFolder, final) == 0 else {
                throw WriteFailure.error(WriteFailure.lastError(final), path: final, root: self.root)
            }
            return (table, true)
        }
    }

    /// Removes an unregistered leftover of a crashed run at `path` (inside the root; a link is removed as a link).
    func removeLeftover(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            try writing(path) { try FileManager.default.removeItem(atPath: path) }
        } else {
            unlink(path)
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
            try Row.fetchAll(db, sql: "SELECT * FROM silver_videos ORDER BY video_url").map(Self.videoRecord)
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
