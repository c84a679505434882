import Foundation
import TandemCore
import TandemGit
import TandemProfiles
public import TandemRegistry

/// `tandem models verify`: a branch's lock file against its environment's registry — the lock names the
/// environment, is committed on the branch (in an ancestor of HEAD, unchanged since), and agrees with the
/// registry's version; the version's stored artifact still hashes to its digest; the registry's rows agree with
/// its audit chain, which still holds the heads the lock files anchor (`RegistryIntegrity`).
public enum LockVerification {
    /// What `tandem models verify` found.
    public struct Report: Encodable, Sendable {
        /// Lock file and registry agree, and the registry is intact.
        public var ok: Bool
        public var lock: ModelLock
        /// Where the lock file and the registry disagree (exit 1).
        public var differences: [String]
        /// The registry's integrity, the artifact's bytes included (exit 3 when not intact).
        public var integrity: IntegrityReport
        /// Whether the version's stored artifact failed its re-hash.
        public var artifactTampered: Bool

        enum CodingKeys: String, CodingKey { case ok, lock, differences, integrity }
    }

    /// Checks the lock file of `model` on the context's branch against its environment's registry.
    ///
    /// - Throws: `Failure` when there is no readable lock file (exit 1 when it is missing, 2 when it is not a
    ///   lock file); registry errors as they come.
    public static func verify(model: String, in context: StageContext) throws -> Report {
        let relative = ModelLock.path(model: model)
        let path = context.resolve(relative)
        let limit = InputLimits.lockFileBytes
        let text: String
        switch BoundedFile.read(path, limit: limit) {
        case .success(let data):
            text = String(decoding: data, as: UTF8.self)
        case .failure(.missing):
            throw Failure(
                .refused, "\(relative): no lock file on this branch; register a model with `tandem train` first")
        case .failure(.tooLarge):
            throw Failure(
                .invalidInput,
                "\(relative): larger than \(BoundedFile.describe(bytes: limit)), so not a lock file (one is under 1 KiB); "
                    + "restore the one `tandem train` wrote")
        case .failure(.notRegularFile):
            throw Failure(.invalidInput, "\(relative): not a regular file; restore the lock file `tandem train` wrote")
        case .failure(.unreadable(let reason)):
            throw Failure(.invalidInput, "\(relative): cannot be read (\(reason)); check its permissions")
        }
        let lock: ModelLock
        do { lock = try ModelLock.parse(text) } catch {
            throw Failure(.invalidInput, "\(relative): not a valid lock file (\(error)); re-register the model")
        }
        var differences: [String] = []
        if lock.environment != context.profile.name {
            differences.append("environment: lock \(lock.environment), checked against \(context.profile.name)")
        }
        let registry = try context.openRegistry(writer: nil)
        var tampered: [String] = []
        if let v = try Failure.unlessNotFound({ try registry.version(.version(lock.model, lock.version)) }) {
            differences += lock.differences(from: v)
            // The stored bytes, hashed again: a flipped byte is tampering, whatever the rows say.
            do {
                let data = try registry.artifact(digest: v.artifactDigest)
                if data.count != v.artifactSize {
                    tampered.append(
                        "\(v.reference): the artifact has \(data.count) bytes, the version says \(v.artifactSize)")
                }
            } catch let e as Failure where e.code == .tampered {
                tampered.append(e.description)
            }
        } else {
            differences.append("version \(lock.model)@\(lock.version) does not exist in the \(context.profile.name) registry")
        }
        let git = Git(folder: context.repositoryRoot)
        if let commit = git.lastCommit(touching: relative) {
            if !git.isAncestor(commit, of: "HEAD") {
                differences.append("the lock's commit \(commit.prefix(12)) is not an ancestor of HEAD")
            }
            if (git.blobSize(relative, at: commit) ?? 0) > limit {
                differences.append("the committed lock file is larger than \(BoundedFile.describe(bytes: limit))")
            } else if let committed = git.show(relative, at: commit), (try? ModelLock.parse(committed)) != lock {
                differences.append("the lock file has uncommitted changes")
            }
        } else {
            differences.append("the lock file is not committed on this branch")
        }
        var integrity = try RegistryIntegrity.check(
            registry, anchors: AuditAnchors.collect(context), sameRegistry: context.profile.protected)
        integrity.problems = tampered + integrity.problems
        return Report(
            ok: differences.isEmpty && integrity.intact, lock: lock, differences: differences, integrity: integrity,
            artifactTampered: !tampered.isEmpty)
    }
}
