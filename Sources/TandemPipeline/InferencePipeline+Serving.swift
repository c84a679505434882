import Foundation
import TandemCore
public import TandemFeatures
public import TandemLakehouse
public import TandemLearning

extension InferencePipeline {
    /// The inference path of `model` over a feature store's silver videos: the feature view the model's feature
    /// table was computed with (the definition recorded with that table, not whatever the repository declares
    /// today), run by the one feature code, its columns in the order the model was trained on. `tandem evaluate
    /// score` and the promotion's inference test rank through it.
    public static func serving(_ model: RankerModel, store: FeatureStore) throws -> InferencePipeline {
        let (view, statistics) =
            try model.featureContract.map { try contractView($0, of: model) } ?? trainedView(model, store: store)
        let columns = try view.featureSet.indices(of: model.signature.features.map(\.name))
        return InferencePipeline(
            features: InferenceFeatures(view: view, videos: try store.silverVideos(), statistics: statistics),
            scorer: Scorer(model: model), columns: columns)
    }

    /// The view and statistics a model's artifact froze (docs/features.md, "The feature contract"): the
    /// declaration compiled again and its digest checked, the statistics' digest checked.
    ///
    /// - Throws: `Failure` (exit 3, `.tampered`) when either no longer has its recorded digest; (exit 2) when the
    ///   contract does not name the model's feature set.
    public static func contractView(_ contract: FeatureContract, of model: RankerModel) throws -> (
        FeatureView, CorpusStatistics?
    ) {
        let set = model.signature.featureSet
        guard let entry = contract.view(set) else {
            throw Failure(
                .invalidInput,
                "the model's feature contract names " + contract.views.map(\.reference).joined(separator: ", ")
                    + " but not \(set), the feature set its signature reads; retrain it")
        }
        let view = try FeatureViewCatalogue.compile(
            entry.source, file: "\(entry.reference) (\(entry.file), in the model artifact)")
        guard view.digest == entry.digest else {
            throw Failure(
                .tampered,
                "\(entry.reference) in the model's artifact compiles to a definition whose digest is not the recorded "
                    + "sha256:\(entry.digest.prefix(12))…; the artifact was changed")
        }
        if let statistics = entry.statistics {
            guard let digest = entry.statisticsDigest, ContentDigest.sha256Hex(try statistics.encoded()) == digest else {
                throw Failure(
                    .tampered,
                    "the corpus statistics of \(entry.table) in the model's artifact do not match their recorded digest; "
                        + "the artifact was changed")
            }
        }
        return (view, entry.statistics)
    }

    /// The view a model was trained with and the corpus statistics frozen with its table: the ones recorded with its
    /// feature table in this store; when this store
    /// does not hold that table (a model copied from another environment), the one of its feature set's latest
    /// table; when it holds none, the built-in view of that name.
    static func trainedView(_ model: RankerModel, store: FeatureStore) throws -> (FeatureView, CorpusStatistics?) {
        let set = model.signature.featureSet
        let tables = try store.featureTables(set: set)
        let trained = FeatureTableReference(model.signature.featureTable).flatMap { reference in
            tables.first { reference.featureSet == set && $0.version == reference.version }
        }
        if let table = trained ?? tables.last { return (try store.view(of: table), try store.statistics(of: table)) }
        return (try FeatureViewCatalogue.builtin().view(set), nil)
    }
}
