import Foundation
import TandemCore
import TandemGit
import TandemProfiles
public import TandemRegistry

/// Starting a promotion: one model, one lane, its version checked against the branch's lock file.
extension PromotionEngine {
    // MARK: Start

    /// Records a promotion of `branch` (its head commit) and one model: `model` (or the name of `reference`) when
    /// given, else the one model whose lock file the branch changed, else the repository's only model. The version
    /// is `reference`'s, else the one the model's lock file on the branch names.
    ///
    /// Lanes never cross (docs/models.md): the branch may change the config and lock file of the promoted model
    /// only (since it left the production branch), and a second promotion of the same model into the same target
    /// waits (exit 4) until the first ends.
    public func start(branch: String, model: String? = nil, reference: ModelReference? = nil) throws -> Promotion {
        let commit: String
        do { commit = try git.commit(of: branch) } catch {
            throw Failure(.notFound, "no branch or commit '\(branch)' in \(context.repositoryRoot): \(error)")
        }
        let production =
            try context.productionSide?.commit
            ?? context.repository
            .productionBranch(context.target.git.productionBranch, remote: context.target.git.remote).currentHead()
        let catalogue = try ModelCatalogue.committed(at: commit, label: "\(branch)@\(commit.prefix(12)):", in: git)
        let changes = try ModelChanges.of(
            commit, since: production, catalogue: catalogue, baseCatalogue: context.productionSide?.models, in: git)
        let name = try catalogue.resolve(reference?.name ?? model, changed: changes.locks, what: "the promotion")
        let crossing = (production == nil ? changes.locks : changes.models).filter { $0 != name }
        guard crossing.isEmpty || context.rehearsal != nil else {
            throw Failure(
                .refused,
                "\(branch) changes the config or lock file of " + crossing.joined(separator: ", ")
                    + " as well as promoting \(name); a promotion moves one model, so nothing was started. Promote "
                    + "each model from a branch that changes only its own files under models/ (docs/models.md, Lanes)")
        }
        if context.rehearsal == nil,
            let active = try context.store.all().first(where: {
                $0.target == context.target.name && $0.model == name && !$0.state.isFinal
            })
        {
            throw Self.oneAtATime(active, model: name)
        }
        let lockPath = ModelLock.path(model: name)
        if let size = git.blobSize(lockPath, at: commit), size > InputLimits.lockFileBytes {
            throw Failure(
                .invalidInput,
                "\(lockPath) on \(branch) is \(size) bytes, larger than \(BoundedFile.describe(bytes: InputLimits.lockFileBytes)); "
                    + "a lock file is under 1 KiB: restore the one `tandem train` wrote")
        }
        let lock = git.show(lockPath, at: commit).flatMap { try? ModelLock.parse($0) }
        let chosen: ModelReference
        if let reference {
            chosen = reference
        } else if let lock {
            chosen = .version(lock.model, lock.version)
        } else {
            throw Failure(
                .invalidInput,
                "\(branch) has no \(lockPath); register \(name) on it with `tandem train`, or name a version with --model \(name)@VERSION"
            )
        }
        let version = try context.sourceRegistry.version(chosen)
        guard version.name == name else {
            throw reference == nil
                ? Failure(
                    .refused,
                    "\(lockPath) on \(branch) names a version of \(version.name), not of \(name); restore the lock file "
                        + "`tandem train --model \(name)` wrote")
                : Failure(
                    .invalidInput, "the promotion is for \(name) but --model names a version of \(version.name); name one model")
        }
        // A rehearsal promotes the version it just trained in its scratch registry: the branch's lock file names the
        // real test environment's and is not its evidence.
        if let lock, context.rehearsal == nil {
            var differences =
                lock.version != version.version
                ? ["version: lock \(lock.version), promoted \(version.version)"] : lock.differences(from: version)
            if lock.model != name { differences.insert("model: \(lockPath) names \(lock.model)", at: 0) }
            if lock.environment != context.source.name {
                differences.insert("environment: lock \(lock.environment), promoted from \(context.source.name)", at: 0)
            }
            guard differences.isEmpty else {
                throw Failure(
                    .refused,
                    "\(lockPath) on \(branch) disagrees with the \(context.source.name) registry: "
                        + differences.joined(separator: "; ") + " (see `tandem models verify`)")
            }
        }
        let now = Timestamp.nowMillis()
        let promotion = Promotion(
            id: "p-" + UUID().uuidString.lowercased().prefix(12), source: context.source.name, target: context.target.name,
            branch: branch,
            commit: commit, model: version.name, version: version.version, modelDigest: version.artifactDigest,
            requestedBy: context.actor,
            requestedAt: now, state: .requested, updatedAt: now, tests: [], approvals: [])
        if context.rehearsal != nil {
            try context.store.insert(promotion)
        } else if let active = try context.store.insertUnlessActive(promotion) {
            // Another runner started this model between the check above and now.
            throw Self.oneAtATime(active, model: name)
        }
        try report(promotion, event: "promotion.requested", summary: "\(branch) @ \(commit.prefix(12)) with \(version.reference)")
        return promotion
    }

    static func oneAtATime(_ active: Promotion, model: String) -> Failure {
        Failure(
            .waiting,
            "\(active.id) is promoting \(model) into \(active.target) (\(active.state.rawValue)); one promotion per "
                + "model at a time: wait for it to end, or reject it with `tandem promote reject \(active.id)`")
    }
}
