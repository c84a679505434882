import Foundation
import TandemCore
import TandemFeatures
import TandemLakehouse
import TandemRegistry
import TandemStorage

/// What `tandem jobs recover` reclaimed besides jobs: staging left by killed processes, runs left `RUNNING`.
public struct Leftovers: Encodable, Sendable {
    /// The staging files and folders removed (their owner is gone).
    public var staging: [String] = []
    /// The runs marked `FAILED` (killed), by id.
    public var runs: [String] = []
}

extension StageContext {
    /// Reclaims what killed processes of this environment left in its roots: the staging of the feature store and
    /// of the registry's artifact store (`Staging`), and the runs still `RUNNING` whose process is gone
    /// (`RunRecovery`). A root nothing was written into yet is left as it is (never stamped here); a protected
    /// registry is not written (no training runs there).
    public func recoverLeftovers() throws -> Leftovers {
        var leftovers = Leftovers()
        let features = try folder(of: .features)
        if RootGuard.stamp(of: features) != nil {
            try RootGuard.open(path: features, environment: profile.name, role: .features, ifEmpty: "")
            leftovers.staging += FeatureStore.reclaimStaging(root: features)
        }
        if case .file = profile.roots.registry {
            let registry = try folder(of: .registry)
            guard RootGuard.stamp(of: registry) != nil else { return leftovers }
            try RootGuard.open(path: registry, environment: profile.name, role: .registry, ifEmpty: "")
            leftovers.staging += SQLiteModelRegistry.reclaimStaging(root: registry)
        }
        guard !profile.protected else { return leftovers }
        leftovers.runs = try RunRecovery.recover(try openRegistry(writer: .stage("jobs"))).map(\.id)
        return leftovers
    }
}
