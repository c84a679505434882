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

    /// Returns the target to the pair it had before its latest promotion, as a new, audited step: a commit on
    /// the production branch whose tree is the earlier code (history that others pulled is never rewritten),
    /// published like a promotion, then `previous` made `champion` again.
    ///
    /// In a protected environment only one of its approvers (as its production branch lists them) may roll back.
    public func rollback(model: String) throws -> RollbackResult {
        try requireApprover(to: "roll back")
        let targetRegistry = try context.openTargetRegistry()
        let champion = try targetRegistry.version(.alias(model, "champion"))
        guard let previous = try Failure.unlessNotFound({ try targetRegistry.version(.alias(model, "previous")) }) else {
            throw Failure(.notFound, "\(context.target.name) has no previous version of \(model) to return to")
        }
        guard
            var promotion = try context.store.all().first(where: {
                $0.target == context.target.name && $0.state == .promoted && $0.targetVersion == champion.version
            }),
            let merged = promotion.mergeCommit
        else {
            throw Failure(
                .invalidInput,
                "no promotion record made \(model)@\(champion.version) champion of \(context.target.name); move the aliases with `tandem models alias`"
            )
        }
        if let holder = try context.store.lock(target: context.target.name, promotion: "rollback-\(promotion.id)") {
            throw Failure(
                .waiting, "\(context.target.name) is being promoted by \(holder); roll back after it ends")
        }
        defer { try? context.store.unlock(target: context.target.name, promotion: "rollback-\(promotion.id)") }
        let git = context.repository.productionBranch(context.target.git.productionBranch, remote: context.target.git.remote)
        guard let head = try git.currentHead() else {
            throw Failure(.notFound, "\(context.target.git.productionBranch) does not exist")
        }
        let firstParent = try self.git.firstParent(of: merged)
        let base = promotion.previousBranchHead ?? firstParent
        let revert = try git.revertCommit(
            head: head, to: base,
            message:
                "Roll back \(context.target.name) to \(model)@\(previous.version)\n\nUndoes promotion \(promotion.id) (\(model)@\(champion.version)), "
                + "returning \(context.target.git.productionBranch) to the code of \(base.prefix(12)).",
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
                "promotion": promotion.id, "from_version": String(champion.version), "revert_commit": revert, "code_of": base,
                "production_branch": context.target.git.productionBranch,
            ])
        promotion.reason = "rolled back by \(context.actor): \(context.target.name) runs \(model)@\(previous.version) again"
        try transition(promotion, to: .rolledBack, event: "promotion.rolled_back", summary: promotion.reason ?? "")
        return RollbackResult(
            promotion: promotion.id, model: model, from: champion.version, to: previous.version, revertCommit: revert, tag: tag)
    }

    /// Refuses (exit 2) an actor who is not one of a protected target's approvers.
    func requireApprover(to action: String) throws {
        let target = context.target
        guard target.protected, !target.approvals.approvers.contains(context.actor) else { return }
        let list = target.approvals.approvers.isEmpty ? "none listed" : target.approvals.approvers.joined(separator: ", ")
        throw Failure(
            .invalidInput,
            "'\(context.actor)' is not an approver of \(target.name) (\(target.file): approvals.approvers: \(list)); "
                + "only an approver may \(action) a protected environment (TANDEM_ACTOR, else the OS user, says who you are)")
    }
}
