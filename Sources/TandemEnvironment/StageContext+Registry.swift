import Foundation
import TandemCore
public import TandemPipeline
import TandemProfiles
public import TandemRegistry
public import TandemStorage

extension StageContext {
    /// The one place a registry implementation is chosen from the profile's `registry` root.
    ///
    /// - Parameter writer: who will write (`nil` to open for reading only: the root must already exist).
    ///   A stage's write is refused when the checkout's profile says the environment is protected, or its
    ///   production branch does (`protection()`), whatever the checkout says.
    public func openRegistry(writer: RootWriter?) throws -> any ModelRegistry {
        var protected = profile.protected
        if case .stage? = writer, !protected { protected = try protection().protected }
        if case .mlflow = profile.roots.registry {
            if protected, case .stage(let stage)? = writer {
                throw Failure(
                    .invalidInput,
                    "the \(profile.name) registry is written only by the promotion engine; '\(stage)' may read it but not write it"
                )
            }
            return try RegistryBackends.open(profile.roots.registry, folder: nil)
        }
        let path = try folder(of: .registry)
        // A root that holds a registry but lost its ownership stamp, or whose stamp does not parse, is damaged
        // (exit 3): never read as "empty", never stamped afresh as if it were new.
        do {
            if let writer {
                try RootGuard.claim(
                    path: path, environment: profile.name, role: .registry, protected: protected, writer: writer)
            } else {
                try requireOwnRoot(
                    path, role: .registry,
                    ifEmpty: "the registry of '\(profile.name)' is empty; nothing has been trained or promoted there yet")
            }
        } catch let error as RootAccessError where error.kind == .damaged || error.kind == .link {
            throw Failure(.tampered, error.description)
        }
        return try RegistryBackends.open(profile.roots.registry, folder: path)
    }

    /// The path of a repository file given on the command line or in a profile.
    public func repositoryPath(_ path: String) -> String {
        path.hasPrefix("/") ? path : resolve(path)
    }
}

extension StageContext {
    /// What a training in this environment reads and writes, opened through the root guard as a stage does.
    public func trainingEnvironment() -> TrainingSession.Environment {
        TrainingSession.Environment(
            name: profile.name, repositoryRoot: repositoryRoot, openFeatureStore: { try openFeatureStoreForReading() },
            openRegistry: { try openRegistry(writer: .stage("train")) },
            artifactPath: { digest in
                // An MLflow registry keeps it among the server's proxied artifacts (MLflowModelRegistry.storeArtifact).
                if case .mlflow = profile.roots.registry { return MLflowModelRegistry.sourceURI(digest: digest) }
                return (resolve(try folder(of: .registry)) as NSString)
                    .appendingPathComponent("artifacts/sha256/\(digest.prefix(2))/\(digest)")
            })
    }
}
