import Foundation
import TandemCore

/// A version copied from one environment's registry into another's: the same artifact bytes (digest checked on
/// arrival), the same lineage, and `copied_from` naming where it came from. `tandem models copy` and the
/// promotion's `copy_version` step both copy through it.
public enum VersionCopy {
    /// Copies `version` of `source` into `target`; `origin` is what `copied_from` records (`test:NAME@3`).
    ///
    /// - Parameter reuse: when true, a version of `target` already copied from `origin` with the same digest is
    ///   returned instead of a second copy (a promotion resumed after a crash copies once).
    /// - Throws: `Failure(.tampered)` (exit 3) when the bytes stored in `target` do not hash to the version's
    ///   digest; nothing is registered then.
    public static func copy(
        _ version: ModelVersion, from source: any ModelRegistry, origin: String, into target: any ModelRegistry,
        actor: String, reuse: Bool
    ) throws -> ModelVersion {
        if reuse,
            let existing = try target.versions(name: version.name).first(where: {
                $0.copiedFrom == origin && $0.artifactDigest == version.artifactDigest
            })
        {
            return existing
        }
        let digest = try target.storeArtifact(try source.artifact(digest: version.artifactDigest))
        guard digest == version.artifactDigest else {
            throw Failure(
                .tampered,
                "the artifact of \(origin) arrived as sha256:\(digest.prefix(12))…, not sha256:"
                    + "\(version.artifactDigest.prefix(12))…; nothing was registered")
        }
        // Nothing else changes on the copy: versions are immutable, and a promotion links itself to the copy
        // through its record and its `promotion.promoted` audit entry.
        var copy = version
        copy.copiedFrom = origin
        return try target.createVersion(copy, actor: actor)
    }
}
