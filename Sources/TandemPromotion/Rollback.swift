import Foundation
import TandemCore
import TandemGit
import TandemProfiles
import TandemRegistry

extension PromotionEngine {
    /// What a rollback did.
    public struct RollbackResult: Sendable, Codable {
        public var promotion: String
        public var model: String
        public var from: Int
        public var to: Int
        public var revertCommit: String
        public var tag: String

        enum CodingKeys: String, CodingKey {
            case promotion, model, from, to, tag
            case revertCommit = "revert_commit"
        }
    }

    /// Returns one model of the target to the pair it had before its latest promotion, as a new, audited step: a
    /// commit on the production branch that undoes exactly that promotion's changes (as `git revert -m 1` of its
    /// merge would; history that others pulled is never rewritten, and other models' promotions since stay),
    /// published like a promotion, then the version that promotion replaced made `champion` again (and the
    /// rolled-back one `previous`). When a later commit changed
    /// the same files, nothing is changed and the refusal names it (exit 1).
    ///
    /// In a protected environment only one of its approvers (as its production branch lists them) may roll back.
    public func rollback(model: String) throws -> RollbackResult {
        try requireApprover(to: "roll back", model: model)
        let targetRegistry = try context.openTargetRegistry()
        let champion = try targetRegistry.version(.alias(model, "champion"))
        guard
            var promotion = try context.store.all().filter({
                $0.target == context.target.name && $0.model == model && $0.state == .promoted
                    && $0.targetVersion == champion.version && $0.mergeCommit != nil
            }).max(by: { $0.updatedAt < $1.updatedAt }),
            let merged = promotion.mergeCommit
        else {
            throw Failure(
                .invalidInput,
                "no promotion record made \(model)@\(champion.version) champion of \(context.target.name); move the aliases with `tandem models alias`"
            )
        }
        // The version that promotion replaced: rolling back twice does not return to the rolled-back version.
        guard let before = promotion.previousChampion else {
            throw Failure(
                .notFound,
                "\(context.target.name) has no previous version of \(model) to return to: \(promotion.id) made \(model)@\(champion.version) "
                    + "its first champion")
        }
        let previous = try targetRegistry.version(.version(model, before))
        if let holder = try context.store.lock(target: context.target.name, promotion: "rollback-\(promotion.id)") {
            throw Failure(
                .waiting, "\(context.target.name) is being promoted by \(holder); roll back after it ends")
        }
        defer { try? context.store.unlock(target: context.target.name, promotion: "rollback-\(promotion.id)") }
        let git = context.repository.productionBranch(context.target.git.productionBranch, remote: context.target.git.remote)
        guard let head = try git.currentHead() else {
            throw Failure(.notFound, "\(context.target.git.productionBranch) does not exist")
        }
        let base = try promotion.previousBranchHead ?? self.git.firstParent(of: merged)
        let revert = try git.undo(
            merged, from: base, onto: head,
            message:
                "Roll back \(model) in \(context.target.name) to \(model)@\(previous.version)\n\nUndoes promotion \(promotion.id) "
                + "(\(model)@\(champion.version)): the changes its merge \(merged.prefix(12)) made to "
                + "\(context.target.git.productionBranch), and nothing else.",
            author: context.actor)
        let tag = "\(context.target.git.tagPrefix)/\(model)/rollback-v\(champion.version)-to-v\(previous.version)"
        try git.tag(tag, at: revert, message: "rollback of \(promotion.id)", author: context.actor)
        do {
            try git.publish(revert, tag: tag)
        } catch {
            git.deleteTag(tag)
            throw error
        }
        try git.moveLocalBranch(to: revert, from: head)
        try targetRegistry.setAlias(name: model, alias: "champion", version: previous.version, actor: context.actor)
        try targetRegistry.setAlias(name: model, alias: "previous", version: champion.version, actor: context.actor)
        try targetRegistry.appendAudit(
            actor: context.actor, action: "promotion.rolled_back", subject: "\(model)@\(previous.version)",
            detail: [
                "promotion": promotion.id, "from_version": String(champion.version), "revert_commit": revert,
                "undoes_merge": merged, "code_of": base,
                "production_branch": context.target.git.productionBranch,
            ])
        promotion.reason = "rolled back by \(context.actor): \(context.target.name) runs \(model)@\(previous.version) again"
        try transition(promotion, to: .rolledBack, event: "promotion.rolled_back", summary: promotion.reason ?? "")
        try requireLane(model, after: "the rollback of \(promotion.id)")
        return RollbackResult(
            promotion: promotion.id, model: model, from: champion.version, to: previous.version, revertCommit: revert, tag: tag)
    }

    /// Refuses (exit 2) an actor who is not one of a protected target's approvers, or whose identity is only asserted
    /// where the target requires a verified one.
    func requireApprover(to action: String, model: String) throws {
        let target = context.rules(for: model)
        if target.protected, target.approvals.requireVerified, !context.actorIdentity.isVerified {
            throw Failure(
                .invalidInput,
                "\(target.name) requires a verified approver identity (approvals.require_verified) to \(action) it, and "
                    + "'\(context.actor)' is only asserted; run it from the CI job (docs/security.md, Who approves)")
        }
        guard target.protected, !target.approvals.approvers.contains(context.actor) else { return }
        let list = target.approvals.approvers.isEmpty ? "none listed" : target.approvals.approvers.joined(separator: ", ")
        throw Failure(
            .invalidInput,
            "'\(context.actor)' is not an approver of \(target.name) (\(target.file): approvals.approvers: \(list)); "
                + "only an approver may \(action) a protected environment (TANDEM_ACTOR, else the OS user, says who you are)")
    }
}
