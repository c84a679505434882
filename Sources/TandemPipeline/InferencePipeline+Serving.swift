import Foundation
import TandemFeatures
import TandemLakehouse
import TandemLearning

extension InferencePipeline {
    /// The inference path of `model` over a feature store's silver videos: the model's feature set computed by the
    /// one feature code, its columns in the order the model was trained on. `tandem evaluate score` and the
    /// promotion's inference test rank through it.
    public static func serving(_ model: RankerModel, store: FeatureStore) throws -> InferencePipeline {
        guard let set = FeatureSet.all[model.signature.featureSet] else {
            throw FeatureStoreError.unknownFeatureSet(model.signature.featureSet)
        }
        let columns = try set.indices(of: model.signature.features.map(\.name))
        return InferencePipeline(
            features: InferenceFeatures(videos: try store.silverVideos(), featureSet: set), scorer: Scorer(model: model),
            columns: columns)
    }
}
