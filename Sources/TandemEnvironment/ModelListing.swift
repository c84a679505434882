import Foundation
import TandemCore
import TandemProfiles
public import TandemRegistry
import TandemStorage

/// One model as `tandem models list` shows it: its config in the repository (when there is one) beside its
/// versions and aliases in the environment's registry.
public struct ModelListing: Encodable, Sendable {
    public var name: String
    /// The config file, nil for a model only the registry knows.
    public var config: String?
    public var kind: String?
    public var featureSet: String?
    /// The features it reuses by name; empty for all of its set's.
    public var features: [String]?
    public var team: String?
    public var versions: [ModelVersion]
    public var aliases: [String: Int]

    enum CodingKeys: String, CodingKey {
        case name, config, kind, features, team, versions, aliases
        case featureSet = "feature_set"
    }
}

extension StageContext {
    /// Every model of the repository (`models/*.yaml`) with its versions and aliases in this environment's
    /// registry, then the models registered there without a config in this checkout; sorted by name. An
    /// environment nothing was trained or promoted in yet lists the repository's models with no versions.
    public func modelListing() throws -> [ModelListing] {
        let catalogue = try models()
        let registry: (any ModelRegistry)?
        do {
            registry = try openRegistry(writer: nil)
        } catch let error as RootAccessError where error.kind == .empty {
            registry = nil
        }
        let registered = Set(try registry?.models() ?? [])
        return try Set(catalogue.names).union(registered).sorted().map { name in
            let config = catalogue[name]
            let known = registered.contains(name)
            return ModelListing(
                name: name, config: config?.file, kind: config?.kind, featureSet: config?.featureSet,
                features: config?.features, team: config?.owners?.team,
                versions: known ? try registry?.versions(name: name) ?? [] : [],
                aliases: known ? try registry?.aliases(name: name) ?? [:] : [:])
        }
    }
}
