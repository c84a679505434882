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
    public let featureSet: FeatureSet
    public let gold: GoldTable.Loaded
    /// The feature-set columns used, in the model's order.
    public let columns: [Int]
    public let split: GoldSplit
    public let signature: ModelSignature
    /// The views and statistics a model trained on these inputs computes its features with, frozen into its
    /// artifact (nil for a table that recorded no view version).
    public private(set) var featureContract: FeatureContract?

    /// The inputs of a training: the named table version (the latest when nil) and features (all when empty).
    public init(store: FeatureStore, featureSet name: String, tableVersion: Int?, features: [String]) throws {
        let table = try store.featureTable(FeatureTableReference(featureSet: name, version: tableVersion))
        let set = table.featureSetOfColumns
        let names = features.isEmpty ? set.names : features
        try self.init(store: store, table: table, set: set, names: names)
        featureContract = try store.featureContract(of: table)
    }

    /// The inputs of an evaluation of `model`: its features, from the given table (its feature set's latest when nil).
    public init(store: FeatureStore, model: RankerModel, table reference: FeatureTableReference? = nil) throws {
        let reference = reference ?? FeatureTableReference(featureSet: model.signature.featureSet, version: nil)
        let table = try store.featureTable(reference)
        try self.init(store: store, table: table, set: table.featureSetOfColumns, names: model.signature.features.map(\.name))
    }

    private init(store: FeatureStore, table: FeatureTableVersion, set: FeatureSet, names: [String]) throws {
        try self.init(
            table: table, set: set, gold: GoldTable.load(folder: store.goldFolder(of: table), expectedDigest: table.digest),
            names: names)
    }

    private init(table: FeatureTableVersion, set: FeatureSet, gold: GoldTable.Loaded, names: [String]) throws {
        self.table = table
        featureSet = set
        self.gold = gold
        columns = try set.indices(of: names)
        split = GoldSplit(gold, columns: columns)
        signature = ModelSignature(
            featureSet: set.name, featureSetVersion: set.version, featureTable: table.reference,
            features: names.map { .init(name: $0, type: "float32") })
    }

    /// The same table (not read again) with another model's features: champion and challenger are scored on
    /// the same rows.
    public func sameTable(for model: RankerModel) throws -> TrainingInputs {
        guard model.signature.featureSet == featureSet.name else {
            throw Failure(
                .invalidInput,
                "\(model.signature.featureSet) features cannot be read from \(table.reference): the models use different feature sets"
            )
        }
        return try TrainingInputs(table: table, set: featureSet, gold: gold, names: model.signature.features.map(\.name))
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
