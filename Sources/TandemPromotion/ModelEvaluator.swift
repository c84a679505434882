import Foundation
import TandemCore
import TandemFeatures
public import TandemLakehouse
public import TandemLearning
import TandemPipeline
public import TandemRegistry

/// A model to evaluate: the decoded model and the registry version it came from.
public struct EvaluatedModel: Sendable {
    public var model: RankerModel
    public var version: ModelVersion

    public init(model: RankerModel, version: ModelVersion) {
        self.model = model
        self.version = version
    }
}

/// A model's metrics on the held-out test queries: per metric, each query's value (nil where undefined, aligned by
/// query across models) and the mean over the queries where it is defined.
public struct QueryScores: Sendable, Equatable {
    public var perQuery: [String: [Double?]]
    public var means: [String: Double]

    public init(perQuery: [String: [Double?]], means: [String: Double]) {
        self.perQuery = perQuery
        self.means = means
    }
}

/// What the champion/challenger decision is made on: both models scored on the same held-out queries.
public struct HeldOutEvaluation: Sendable, Equatable {
    /// The feature table whose test queries were scored (`relevance_v1@3`).
    public var table: String
    public var challenger: QueryScores
    /// Nil for a first release (no champion).
    public var champion: QueryScores?

    public init(table: String, challenger: QueryScores, champion: QueryScores?) {
        self.table = table
        self.challenger = challenger
        self.champion = champion
    }
}

/// Scores a challenger and the champion on the test queries of the feature table the challenger was trained on
/// (docs/data-contract.md, "Train/validation/test split"). `FeatureStoreEvaluator` is the real one; TandemTesting
/// has one that answers scores held in memory, for the engine's unit tests.
public protocol ModelEvaluator: Sendable {
    func evaluate(challenger: EvaluatedModel, champion: EvaluatedModel?) throws -> HeldOutEvaluation
}

/// The evaluation of a source environment's feature store: its table's test split, scored by the real scorer.
public struct FeatureStoreEvaluator: ModelEvaluator {
    public let store: FeatureStore

    public init(store: FeatureStore) { self.store = store }

    public func evaluate(challenger: EvaluatedModel, champion: EvaluatedModel?) throws -> HeldOutEvaluation {
        let inputs = try TrainingInputs(store: store, model: challenger.model)
        // The champion reads the same rows (the challenger's first table); the views it joins that the challenger
        // does not are joined from tables built from the same silver.
        func rows(for model: RankerModel) throws -> TrainingInputs {
            guard model.signature.featureSet == inputs.table.featureSet else {
                throw Failure(
                    .invalidInput,
                    "\(model.signature.featureSet) features cannot be read from \(inputs.table.reference): the models use "
                        + "different feature sets")
            }
            let have = Set(inputs.joined.map(\.featureSet))
            let needs = model.signature.joinedViews
            if needs.allSatisfy(have.contains) { return try inputs.sameTable(for: model) }
            return try TrainingInputs(
                store: store, model: model,
                table: FeatureTableReference(featureSet: inputs.table.featureSet, version: inputs.table.version))
        }
        func scores(_ model: RankerModel) throws -> QueryScores {
            let test = try rows(for: model).split.test
            let scores = Scorer(model: model, threads: 2).score(test.features, rows: test.rows)
            let report = RankingMetrics.evaluate(groups: test.groups, labels: test.labels, scores: scores)
            return QueryScores(perQuery: report.perQuery, means: report.means)
        }
        return HeldOutEvaluation(
            table: inputs.table.reference, challenger: try scores(challenger.model),
            champion: try champion.map { try scores($0.model) })
    }
}

/// The evaluation where the source environment's feature store is empty on this machine (a fresh CI runner that
/// approves a promotion another runner tested): refused, saying what to run, should a promotion need it again (its
/// branch moved, so it is tested and evaluated anew).
public struct NoFeatureStoreEvaluator: ModelEvaluator {
    public let environment: String

    public init(environment: String) { self.environment = environment }

    public func evaluate(challenger: EvaluatedModel, champion: EvaluatedModel?) throws -> HeldOutEvaluation {
        throw Failure(
            .invalidInput,
            "the evaluation reads the test queries of \(environment)'s feature store, which is empty on this machine; run "
                + "`tandem etl --env \(environment)` here first, then `tandem promote advance`")
    }
}
