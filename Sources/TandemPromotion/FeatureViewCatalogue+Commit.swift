import Foundation
public import TandemCore
public import TandemGit
public import TandemLakehouse
import TandemProfiles

extension FeatureViewCatalogue {
    /// The feature views a commit declares (`features/*.yaml` in that commit, every file sized before it is read),
    /// then the built-in views it does not declare.
    public static func committed(at commit: String, label: String, in repository: any PromotionRepository) throws
        -> FeatureViewCatalogue
    {
        var texts: [String: String] = [:]
        for (path, size) in try repository.files(in: FeatureViewReader.folder, at: commit)
        where path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
            if size > InputLimits.yamlBytes {
                throw ProfileError(
                    location: SourceLocation(file: label + path, line: 1, column: 1),
                    problem: "is \(size) bytes, more than the \(InputLimits.yamlBytes >> 20) MiB a Tandem YAML file may have",
                    fix: "a feature view is a few KiB; keep \(path) under that size")
            }
            guard let text = repository.show(path, at: commit) else { continue }
            texts[path] = text
        }
        return try load(texts: texts, label: label)
    }
}
