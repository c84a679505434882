public import TandemGit
public import TandemLakehouse
import TandemProfiles

extension FeatureViewCatalogue {
    /// The feature views a commit declares (`features/*.yaml` in that commit, every file sized before it is read),
    /// then the built-in views it does not declare.
    public static func committed(at commit: String, label: String, in repository: any PromotionRepository) throws
        -> FeatureViewCatalogue
    {
        let texts = try committedYAML(
            in: FeatureViewReader.folder, at: commit, label: label, repository: repository, what: "a feature view")
        return try load(texts: texts, label: label)
    }
}
