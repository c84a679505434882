import TandemCore
public import TandemFeatures
public import TandemLakehouse
public import TandemLearning

/// What a training or an evaluation reads from the feature store, resolved in one place: the feature table
/// version, its gold table (digest checked), the columns a model uses, the train/validation/test split, and the
/// signature a model trained on it carries.
///
/// `tandem train`, the promotion's training-pipeline test, `tandem evaluate gold` and the champion/challenger
/// all go through it, so they cannot resolve the same inputs differently.
public struct TrainingInputs: Sendable {
    public let table: FeatureTableVersion
    /// The tables of the views joined to `table`'s on their entity keys, in column order (docs/models.md,
    /// "Several views"): built from the same silver version, so their rows are the same judgments.
    public let joined: [FeatureTableVersion]
    /// The columns of `table` then of each joined table, whose features are named `VIEW.FEATURE`.
    public let featureSet: FeatureSet
    public let gold: GoldTable.Loaded
    /// The feature-set columns used, in the model's order.
    public let columns: [Int]
    public let split: GoldSplit
    public let signature: ModelSignature
    /// The views and statistics a model trained on these inputs computes its features with, frozen into its
    /// artifact (nil for a table that recorded no view version).
    public private(set) var featureContract: FeatureContract?

    /// What the training reads: `table`'s digest alone, or, with joined views, the digest of every table's digest.
    public var dataDigest: String {
        joined.isEmpty ? table.digest : ContentDigest.sha256Hex(([table] + joined).map(\.digest).joined(separator: "\n"))
    }

    /// The inputs of a training: the named table version (the latest when nil) and features (all when empty),
    /// joined with the given views' tables (each pinned, or the latest built from the same silver version).
    public init(
        store: FeatureStore, featureSet name: String, tableVersion: Int?, features: [String],
        joining views: [(name: String, table: Int?)] = []
    ) throws {
        let table = try store.featureTable(FeatureTableReference(featureSet: name, version: tableVersion))
        let joined = try views.map { view in
            try Self.joinedTable(store: store, view: view.name, version: view.table, primary: table)
        }
        try self.init(store: store, table: table, joined: joined, names: features)
        featureContract = try Self.contract(store: store, tables: [table] + joined)
    }

    /// The inputs of an evaluation of `model`: its features, from the given table (its feature set's latest when
    /// nil), joined with the tables it was trained with joined (the latest built from the same silver when the
    /// table is not the one it was trained on).
    public init(store: FeatureStore, model: RankerModel, table reference: FeatureTableReference? = nil) throws {
        let reference = reference ?? FeatureTableReference(featureSet: model.signature.featureSet, version: nil)
        let table = try store.featureTable(reference)
        let trainedOn = table.reference == model.signature.featureTable
        let joined = try (model.signature.joined ?? []).map { text in
            guard let ref = FeatureTableReference(text) else {
                throw Failure(.invalidInput, "the model's signature joins '\(text)', which is not NAME@VERSION")
            }
            return try Self.joinedTable(
                store: store, view: ref.featureSet, version: trainedOn ? ref.version : nil, primary: table)
        }
        try self.init(store: store, table: table, joined: joined, names: model.signature.features.map(\.name))
    }

    /// A joined view's table: the pinned version, or the latest one built from `primary`'s silver version.
    ///
    /// - Throws: `Failure` (exit 2) when it was built from another silver version (its rows are other judgments).
    static func joinedTable(store: FeatureStore, view: String, version: Int?, primary: FeatureTableVersion) throws
        -> FeatureTableVersion
    {
        let silver = primary.lineage.silverVersion
        if let version {
            let table: FeatureTableVersion
            do {
                table = try store.featureTable(FeatureTableReference(featureSet: view, version: version))
            } catch is FeatureStoreError {
                throw Failure(
                    .invalidInput,
                    "this feature store holds no table \(view)@\(version), which the model joins to \(primary.reference); "
                        + "build it with `tandem etl --feature-set \(view)` on the same input")
            }
            guard table.lineage.silverVersion == silver else {
                throw Failure(
                    .invalidInput,
                    "\(table.reference) was built from silver v\(table.lineage.silverVersion) and \(primary.reference) from "
                        + "silver v\(silver): joined views must be built from the same silver, so that their rows are the "
                        + "same judgments; pin tables built together, or build both with `tandem etl --feature-set`")
            }
            return table
        }
        guard let table = try store.featureTables(set: view).last(where: { $0.lineage.silverVersion == silver }) else {
            throw Failure(
                .invalidInput,
                "no table of \(view) was built from silver v\(silver), which \(primary.reference) was built from: run "
                    + "`tandem etl --feature-set \(view)` on the same input, so that the joined views have the same rows")
        }
        return table
    }

    /// The feature contracts of the tables, in order (nil when one recorded no view version).
    static func contract(store: FeatureStore, tables: [FeatureTableVersion]) throws -> FeatureContract? {
        var views: [FeatureContract.View] = []
        for table in tables {
            guard let contract = try store.featureContract(of: table) else { return nil }
            views += contract.views
        }
        return FeatureContract(views: views)
    }

    private init(store: FeatureStore, table: FeatureTableVersion, joined: [FeatureTableVersion], names: [String]) throws {
        var gold = try GoldTable.load(folder: store.goldFolder(of: table), expectedDigest: table.digest)
        var set = table.featureSetOfColumns
        for other in joined {
            let more = try GoldTable.load(folder: store.goldFolder(of: other), expectedDigest: other.digest)
            guard more.queries == gold.queries, more.videoURLs == gold.videoURLs, more.judgedAt == gold.judgedAt else {
                throw Failure(
                    .invalidInput,
                    "\(other.reference) and \(table.reference) do not hold the same judgments row for row, so they cannot "
                        + "be joined; rebuild both from one input with `tandem etl --feature-set`")
            }
            gold = Self.concatenate(gold, more)
            set.features += other.schema.map { f in
                var f = f
                f.name = "\(other.featureSet).\(f.name)"
                return f
            }
        }
        try self.init(
            table: table, joined: joined, set: set, gold: gold, names: names.isEmpty ? set.names : names)
    }

    /// Two gold tables of the same rows, side by side: `a`'s columns then `b`'s.
    static func concatenate(_ a: GoldTable.Loaded, _ b: GoldTable.Loaded) -> GoldTable.Loaded {
        let width = a.width + b.width
        var features = [Float](repeating: 0, count: a.rowCount * width)
        for r in 0..<a.rowCount {
            for k in 0..<a.width { features[r * width + k] = a.features[r * a.width + k] }
            for k in 0..<b.width { features[r * width + a.width + k] = b.features[r * b.width + k] }
        }
        return GoldTable.Loaded(
            queries: a.queries, videoURLs: a.videoURLs, judgedAt: a.judgedAt, labels: a.labels, features: features, width: width)
    }

    private init(
        table: FeatureTableVersion, joined: [FeatureTableVersion], set: FeatureSet, gold: GoldTable.Loaded, names: [String]
    ) throws {
        self.table = table
        self.joined = joined
        featureSet = set
        self.gold = gold
        columns = try set.indices(of: names)
        split = GoldSplit(gold, columns: columns)
        signature = ModelSignature(
            featureSet: table.featureSet, featureSetVersion: set.version, featureTable: table.reference,
            features: names.map { .init(name: $0, type: "float32") }, joined: joined.isEmpty ? nil : joined.map(\.reference))
    }

    /// The same rows (not read again) with another model's features: champion and challenger are scored on the
    /// same rows. The other model's columns must be among these inputs' (its views, joined the same way or a
    /// subset of them).
    public func sameTable(for model: RankerModel) throws -> TrainingInputs {
        guard model.signature.featureSet == table.featureSet else {
            throw Failure(
                .invalidInput,
                "\(model.signature.featureSet) features cannot be read from \(table.reference): the models use different feature sets"
            )
        }
        let views = Set(joined.map(\.featureSet))
        for other in model.signature.joined ?? [] where !views.contains(FeatureTableReference(other)?.featureSet ?? other) {
            throw Failure(
                .invalidInput,
                "the model joins \(other), which the challenger's inputs (\(table.reference)"
                    + joined.map { " + \($0.reference)" }.joined() + ") do not hold")
        }
        return try TrainingInputs(
            table: table, joined: joined, set: featureSet, gold: gold, names: model.signature.features.map(\.name))
    }

    /// Refuses a table too small to train on: every part of the split needs queries.
    public func requireTrainable() throws {
        let empty = GoldSplit.Part.allCases.filter { split[$0].groups.count == 0 }
        guard empty.isEmpty else {
            throw Failure(
                .invalidInput,
                "\(table.reference) has too few queries to train, validate and test (\(gold.rowCount) rows; no "
                    + empty.map { "\($0)" }.joined(separator: " or ") + " queries); run the ETL on more data")
        }
    }
}
