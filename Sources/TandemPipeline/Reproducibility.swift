import Foundation
public import TandemLearning
public import TandemRegistry

/// Explains a new version whose bytes differ from an earlier version trained on the same inputs.
///
/// Training is byte-identical for the same data, configuration, seed, code, thread count and BLAS kernel. When
/// an earlier version of the model had all the same inputs (data digest, commit, settings, signature) but a
/// different artifact digest, the note names what differed in the numeric environment ("OpenBLAS core Haswell
/// vs Zen") — or says that nothing recorded explains it, which is a bug worth reporting.
public enum Reproducibility {
    public static func note(
        for version: ModelVersion, manifest: ModelArtifact.Manifest, registry: any ModelRegistry
    ) -> String? {
        guard let earlier = try? registry.versions(name: version.name) else { return nil }
        // The newest twenty are enough to explain a re-run, and keep registration cheap for long-lived models.
        for other in earlier.suffix(21).reversed() where other.version != version.version {
            guard other.dataDigest == version.dataDigest, other.gitCommit == version.gitCommit,
                other.artifactDigest != version.artifactDigest,
                let data = try? registry.artifact(digest: other.artifactDigest),
                let (_, theirs) = try? ModelArtifact.decode(data, source: other.reference),
                theirs.settings == manifest.settings, theirs.signature == manifest.signature
            else { continue }
            let why: String
            if let mine = manifest.numericEnvironment, let old = theirs.numericEnvironment {
                why =
                    mine.difference(from: old)
                    ?? "the same numeric environment (\(mine.blas), core \(mine.blasCore)) — unexplained"
            } else {
                why = "\(other.reference) does not record its numeric environment"
            }
            return "same inputs as \(other.reference) but different bytes: \(why)"
        }
        return nil
    }
}
