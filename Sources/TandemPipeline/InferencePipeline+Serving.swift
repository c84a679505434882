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
        let joined = try (model.signature.joined ?? []).map { text in
            guard let ref = FeatureTableReference(text) else {
                throw Failure(.invalidInput, "the model's signature joins '\(text)', which is not NAME@VERSION")
            }
            return ref.featureSet
        }
        let views: [(FeatureView, CorpusStatistics?)]
        if let contract = model.featureContract {
            views = try ([model.signature.featureSet] + joined).map { try contractView(contract, view: $0) }
        } else {
            guard joined.isEmpty else {
                throw Failure(.invalidInput, "the model joins feature views but carries no feature contract; retrain it")
            }
            views = [try trainedView(model, store: store)]
        }
        // A column is the first view's FEATURE, or a joined view's VIEW.FEATURE.
        let columns = try model.signature.features.map { feature -> (view: Int, column: Int) in
            let parts = feature.name.split(separator: ".", maxSplits: 1).map(String.init)
            if parts.count == 2, let v = joined.firstIndex(of: parts[0]) {
                return (v + 1, try views[v + 1].0.featureSet.indices(of: [parts[1]])[0])
            }
            return (0, try views[0].0.featureSet.indices(of: [feature.name])[0])
        }
        let videos = try store.silverVideos()
        return InferencePipeline(
            views: views.map { InferenceFeatures(view: $0.0, videos: videos, statistics: $0.1) }, scorer: Scorer(model: model),
            columns: columns)
    }

    /// The view and statistics a model's artifact froze (docs/features.md, "The feature contract"): the
    /// declaration compiled again and its digest checked, the statistics' digest checked.
    ///
    /// - Throws: `Failure` (exit 3, `.tampered`) when either no longer has its recorded digest; (exit 2) when the
    ///   contract does not name the model's feature set.
    public static func contractView(_ contract: FeatureContract, of model: RankerModel) throws -> (
        FeatureView, CorpusStatistics?
    ) {
        try contractView(contract, view: model.signature.featureSet)
    }

    /// One view of a contract (see `contractView(_:of:)`).
    public static func contractView(_ contract: FeatureContract, view set: String) throws -> (
        FeatureView, CorpusStatistics?
    ) {
        guard let entry = contract.view(set) else {
            throw Failure(
                .invalidInput,
                "the model's feature contract names " + contract.views.map(\.reference).joined(separator: ", ")
                    + " but not \(set), a feature view its signature reads; retrain it")
        }
        let view = try FeatureViewCatalogue.compile(
            entry.source, file: "\(entry.reference) (\(entry.file), in the model artifact)")
        guard view.digest == entry.digest else {
            throw Failure(
                .tampered,
                "\(entry.reference) in the model's artifact compiles to a definition whose digest is not the recorded "
                    + "sha256:\(entry.digest.prefix(12))…; the artifact was changed")
        }
        if entry.statistics == nil, entry.statisticsDigest != nil {
            throw Failure(
                .tampered,
                "the model's artifact records a digest of the corpus statistics of \(entry.table) but not the statistics; "
                    + "the artifact was changed")
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
