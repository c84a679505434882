import Foundation
import TandemCore
import TandemFeatures
public import TandemLakehouse
import TandemLearning
import TandemPipeline
import TandemProfiles
import TandemRegistry
import TandemStorage

extension StageContext {
    /// `tandem features plan` (and, with `apply`, `features apply`): the repository's views against this
    /// environment's feature store, each changed view with the model versions of this environment (those an alias
    /// points at) that compute an earlier version of it and keep doing so.
    public func featurePlan(apply: Bool) throws -> [FeaturePlanEntry] {
        let catalogue = try featureViews()
        var entries: [FeaturePlanEntry]
        if apply {
            entries = try openFeatureStore(stage: "features").apply(catalogue)
        } else {
            do {
                entries = try openFeatureStoreForReading().plan(catalogue)
            } catch let error as RootAccessError where error.kind == .empty {
                entries = try FeatureStore.planForEmptyStore(catalogue)
            }
        }
        let users = try aliasedContracts()
        for i in entries.indices where entries[i].action != .unchanged {
            entries[i].usedBy = users.compactMap { user in
                guard let entry = user.contract.view(entries[i].view), entry.digest != entries[i].digest else { return nil }
                return "\(user.label) computes \(entry.reference)"
            }
        }
        return entries
    }

    /// The feature contracts of the versions this environment's aliases point at, labelled `NAME@V [aliases]`.
    private func aliasedContracts() throws -> [(label: String, contract: FeatureContract)] {
        let registry: any ModelRegistry
        do {
            registry = try openRegistry(writer: nil)
        } catch let error as RootAccessError where error.kind == .empty {
            return []
        }
        var out: [(String, FeatureContract)] = []
        for name in try registry.models() {
            let byVersion = Dictionary(grouping: try registry.aliases(name: name), by: \.value).mapValues {
                $0.map(\.key).sorted()
            }
            for (version, aliases) in byVersion.sorted(by: { $0.key < $1.key }) {
                let v = try registry.version(.version(name, version))
                guard let contract = try ModelLoading.model(of: v, in: registry).featureContract else { continue }
                out.append(("\(profile.name):\(v.reference) [\(aliases.joined(separator: ", "))]", contract))
            }
        }
        return out
    }
}
