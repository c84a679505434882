import Foundation
import GRDB
public import TandemCore
public import TandemFeatures
import TandemStorage

/// A version of a feature view's definition, as the feature store keeps it (docs/features.md, "Versions"):
/// numbered per view in the order first used, identified by the digest of its normal form, immutable.
public struct FeatureViewVersion: Sendable, Codable, Equatable {
    public var view: String
    public var version: Int
    public var digest: String
    /// The file it was declared in, when first used.
    public var file: String
    /// The declaration's text, as it was.
    public var source: String
    /// Its normal form (what the digest is of).
    public var normalized: String
    public var createdAt: String

    public var reference: String { "\(view)@\(version)" }

    enum CodingKeys: String, CodingKey {
        case view, version, digest, file, source, normalized
        case createdAt = "created_at"
    }
}

extension FeatureStore {
    /// The file of a gold folder that holds its frozen corpus statistics (docs/features.md, "Frozen statistics").
    static let statisticsFile = "statistics.json"

    /// The corpus statistics frozen with a feature table (its digest checked), or nil for a table registered
    /// before statistics were frozen (its inference path computes them from the silver it reads, as then).
    public func statistics(of table: FeatureTableVersion) throws -> CorpusStatistics? {
        try frozenStatistics(of: table)?.statistics
    }

    /// The corpus statistics frozen with a feature table and their recorded digest (checked), or nil.
    public func frozenStatistics(of table: FeatureTableVersion) throws -> (statistics: CorpusStatistics, digest: String)? {
        guard
            let digest = try queue.read({ db in
                try String.fetchOne(
                    db, sql: "SELECT statistics_digest FROM feature_table_views WHERE feature_set = ? AND version = ?",
                    arguments: [table.featureSet, table.version])
            })
        else { return nil }
        let path = (goldFolder(of: table) as NSString).appendingPathComponent(Self.statisticsFile)
        guard case .success(let data) = BoundedFile.read(path, limit: 1 << 30), ContentDigest.sha256Hex(data) == digest,
            let statistics = try? JSONDecoder().decode(CorpusStatistics.self, from: data)
        else {
            throw Failure(
                .tampered,
                "the corpus statistics of \(table.reference) (\(path)) are missing or do not match their recorded digest; "
                    + "the feature store was changed behind Tandem's back: run `tandem etl` to build a new version")
        }
        return (statistics, digest)
    }

    /// The feature contract of a model trained on `table` (docs/features.md, "The feature contract"): the view
    /// version the table was built with and its frozen statistics; nil for a table that recorded no view version.
    public func featureContract(of table: FeatureTableVersion) throws -> FeatureContract? {
        guard let version = try viewVersion(of: table) else { return nil }
        _ = try view(of: table)  // the recorded definition still compiles to its digest (exit 3 otherwise)
        let frozen = try frozenStatistics(of: table)
        return FeatureContract(views: [
            .init(
                view: version.view, version: version.version, digest: version.digest, file: version.file,
                source: version.source, table: table.reference, statistics: frozen?.statistics,
                statisticsDigest: frozen?.digest)
        ])
    }

    /// The silver history of every video of the latest silver version, by canonical URL, oldest version first.
    public func silverHistory() throws -> [String: [VideoVersion]] {
        try queue.read { db in
            var history: [String: [VideoVersion]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM silver_video_versions ORDER BY video_url, observed_at") {
                let record = Self.videoRecord(row)
                let observed = DataTimestamp(row["observed_at"] as String) ?? DataTimestamp(seconds: Int64.min / 2)
                history[record.url, default: []].append(VideoVersion(observedAt: observed, record: record))
            }
            return history
        }
    }

    /// Records `view`'s definition when this store has not seen it, as the view's next version; returns its
    /// version number either way. Runs inside the registering transaction.
    func recordView(_ view: FeatureView, _ db: Database) throws -> Int {
        if let known = try Int.fetchOne(
            db, sql: "SELECT version FROM feature_view_versions WHERE view = ? AND digest = ?",
            arguments: [view.name, view.digest])
        {
            return known
        }
        if let latest = try Row.fetchOne(
            db, sql: "SELECT * FROM feature_view_versions WHERE view = ? ORDER BY version DESC LIMIT 1", arguments: [view.name]
        ).map(Self.decodeViewVersion) {
            try refuseEntityChange(view, latest: latest)
        }
        let next =
            (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM feature_view_versions WHERE view = ?", arguments: [view.name])
                ?? 0) + 1
        try db.execute(
            sql: "INSERT INTO feature_view_versions VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [view.name, next, view.digest, view.file, view.sourceText, view.normalizedDefinition, Timestamp.now()])
        return next
    }

    /// A recorded version compiled again from its declaration, its digest checked.
    ///
    /// - Throws: `Failure` (exit 3, `.tampered`) when it no longer compiles to its recorded digest.
    func compiled(_ recorded: FeatureViewVersion) throws -> FeatureView {
        let view = try FeatureViewCatalogue.compile(recorded.source, file: "\(recorded.reference) (\(recorded.file)) in \(root)")
        guard view.digest == recorded.digest else {
            throw Failure(
                .tampered,
                "\(recorded.reference) in the feature store at \(root) compiles to a definition whose digest is not the "
                    + "recorded one; the store was changed behind Tandem's back")
        }
        return view
    }

    /// Refuses a definition whose entity differs from the view's latest recorded version's: a model joins a view
    /// on its entity's keys, so that is another view, not a new version (docs/features.md, "Plan and apply").
    func refuseEntityChange(_ view: FeatureView, latest: FeatureViewVersion) throws {
        if let refusal = Self.entityChange(view, previous: try compiled(latest), latest: latest) {
            throw Failure(.invalidInput, refusal)
        }
    }

    /// Why `view` cannot be recorded after `latest` (compiled as `previous`), or nil when its entity is the same.
    static func entityChange(_ view: FeatureView, previous: FeatureView, latest: FeatureViewVersion) -> String? {
        guard previous.entity != view.entity else { return nil }
        return "\(view.file): \(view.name) was declared for entity \(previous.entity.rawValue) (\(latest.reference)); a view's "
            + "entity cannot change, since models join it on its keys: declare a view of another name for entity "
            + view.entity.rawValue
    }

    /// Whether the store would record `view` (a known definition, or a new version of the same entity); refuses
    /// an entity change before an ETL builds anything.
    public func checkRecordable(_ view: FeatureView) throws {
        let versions = try viewVersions(view.name)
        guard !versions.contains(where: { $0.digest == view.digest }), let latest = versions.last else { return }
        try refuseEntityChange(view, latest: latest)
    }

    /// Version `version` of a view as this store recorded it, compiled again from its declaration: what that
    /// version computed (docs/features.md, "Versions").
    ///
    /// - Throws: `Failure` (exit 2) naming the versions it holds when there is no such version; (exit 3) when it no
    ///   longer compiles to its recorded digest.
    public func recordedView(_ name: String, version: Int) throws -> (FeatureViewVersion, FeatureView) {
        let versions = try viewVersions(name)
        guard let recorded = versions.first(where: { $0.version == version }) else {
            throw Failure(
                .invalidInput,
                "the feature store at \(root) holds no version \(version) of \(name); it holds "
                    + (versions.isEmpty ? "none" : versions.map(\.reference).joined(separator: ", ")))
        }
        return (recorded, try compiled(recorded))
    }

    /// Every version of a view's definition this store has used (all views when nil), oldest first.
    public func viewVersions(_ view: String? = nil) throws -> [FeatureViewVersion] {
        try queue.read { db in
            let rows =
                try view.map {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM feature_view_versions WHERE view = ? ORDER BY version", arguments: [$0])
                } ?? Row.fetchAll(db, sql: "SELECT * FROM feature_view_versions ORDER BY view, version")
            return rows.map(Self.decodeViewVersion)
        }
    }

    static func decodeViewVersion(_ row: Row) -> FeatureViewVersion {
        FeatureViewVersion(
            view: row["view"], version: row["version"], digest: row["digest"], file: row["file"], source: row["source"],
            normalized: row["normalized"], createdAt: row["created_at"])
    }

    /// The definition a feature table was computed with: its view version as recorded, or, for a table registered
    /// before views were recorded, the built-in view of its name (relevance_v1, whose declaration computes what
    /// the code before it did, byte for byte).
    public func viewVersion(of table: FeatureTableVersion) throws -> FeatureViewVersion? {
        try queue.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT v.* FROM feature_table_views t JOIN feature_view_versions v
                    ON v.view = t.feature_set AND v.version = t.view_version
                    WHERE t.feature_set = ? AND t.version = ?
                    """, arguments: [table.featureSet, table.version]
            ).map(Self.decodeViewVersion)
        }
    }

    /// The compiled view a feature table was computed with (see `viewVersion(of:)`): what the inference path of a
    /// model trained on that table runs, whatever the repository declares today.
    public func view(of table: FeatureTableVersion) throws -> FeatureView {
        if let recorded = try viewVersion(of: table) { return try compiled(recorded) }
        let builtin = try FeatureViewCatalogue.builtin()
        guard let view = builtin.views[table.featureSet] else {
            throw Failure(
                .notFound, "feature table \(table.reference) records no feature view definition and no built-in view has its name"
            )
        }
        return view
    }
}
