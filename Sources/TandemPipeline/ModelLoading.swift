import Foundation
import TandemLearning
import TandemRegistry

/// Loads a registered version's model: its artifact read from the registry (which checks the bytes against the
/// digest) and decoded. `tandem evaluate`, the integration tests and the champion/challenger all load through it.
public enum ModelLoading {
    /// The model of `version`, stored in `registry`; `label` names it in errors (`prod:relevance-ranker@3`).
    public static func model(of version: ModelVersion, in registry: any ModelRegistry, label: String? = nil) throws
        -> RankerModel
    {
        let data = try registry.artifact(digest: version.artifactDigest)
        return try ModelArtifact.decode(data, source: label ?? version.reference).0
    }

    /// The version a reference names (`NAME@VERSION` or `NAME@ALIAS`) and its model.
    public static func load(_ reference: ModelReference, from registry: any ModelRegistry) throws -> (
        version: ModelVersion, model: RankerModel
    ) {
        let version = try registry.version(reference)
        return (version, try model(of: version, in: registry))
    }
}
