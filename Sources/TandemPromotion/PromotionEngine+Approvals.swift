import Foundation
import TandemCore
import TandemProfiles

/// Approvals and rejections, counted against the target's profile as its production branch holds it.
extension PromotionEngine {
    /// Approvals that count now: by listed approvers, not the requester, bound to the current evidence, not
    /// followed by a rejection.
    public func approvalsCount(_ p: Promotion) -> Int { countedApprovers(p).count }

    /// Who gave the approvals that count, sorted.
    public func countedApprovers(_ p: Promotion) -> [String] {
        let valid = p.approvals.filter {
            $0.approve && $0.evidence == p.evidence && context.rules(for: p.model).approvals.approvers.contains($0.actor)
                && $0.actor != p.requestedBy
        }
        return Set(valid.map(\.actor)).sorted()
    }

    /// Approvals a promotion needs: the target's `approvals.required`, and at least one when the branch changes
    /// the target's profile (a change to the gate is itself gated).
    public func requiredApprovals(_ p: Promotion) -> Int {
        max(context.rules(for: p.model).approvals.required, (p.gateChanges ?? []).isEmpty ? 0 : 1)
    }

    func approvalSummary(_ p: Promotion) -> String {
        let names = Set(p.approvals.filter { $0.approve && $0.evidence == p.evidence }.map(\.actor)).sorted()
        return "approved by " + names.joined(separator: ", ")
    }

    /// Records an approval or a rejection by the acting user (`TANDEM_ACTOR` or the OS user).
    public func decide(_ id: String, approve: Bool, claimedIdentity: String?, reason: String?) throws -> Promotion {
        var p = try context.store.promotion(id)
        let actor = context.actor
        if let claimed = claimedIdentity, claimed != actor {
            throw Failure(
                .invalidInput,
                "--as \(claimed) is not you: you act as '\(actor)' (TANDEM_ACTOR or the OS user); nobody may approve in another's name"
            )
        }
        guard p.state == .awaitingApproval else {
            throw Failure(.invalidInput, "promotion \(p.id) is \(p.state.rawValue), not awaiting approval")
        }
        let rules = context.rules(for: p.model)
        if rules.approvals.requireVerified, !context.actorIdentity.isVerified {
            throw Failure(
                .invalidInput,
                "\(context.target.name) requires a verified approver identity (\(context.target.file): approvals.require_verified), "
                    + "and '\(actor)' is only asserted (TANDEM_ACTOR or the OS user): approve from the CI job, where GitHub's "
                    + "environment review or GitLab's manual job says who you are (docs/security.md, Who approves)")
        }
        guard rules.approvals.approvers.contains(actor) else {
            let owned = rules.approvals.approvers != context.target.approvals.approvers
            let list = rules.approvals.approvers.isEmpty ? "none listed" : rules.approvals.approvers.joined(separator: ", ")
            throw Failure(
                .invalidInput,
                "'\(actor)' is not an approver of \(context.target.name)"
                    + (owned
                        ? " for \(p.model) (owners.approvers of \(p.model)'s config on \(context.target.git.productionBranch): \(list))"
                        : " (\(context.target.file): approvals.approvers: \(list))"))
        }
        if approve && actor == p.requestedBy {
            throw Failure(
                .invalidInput, "'\(actor)' requested promotion \(p.id) and cannot approve it; another release manager must")
        }
        let record = ApprovalRecord(
            actor: actor, at: Timestamp.nowMillis(), approve: approve, reason: reason, evidence: p.evidence,
            identity: context.actorIdentity)
        if approve {
            // Appended to the stored promotion as it is now, in one atomic update: two approvers approving at the
            // same moment on two runners both count, and an approval that arrives after the evidence changed or the
            // promotion moved on is refused.
            let read = p
            p = try context.store.update(p.id) { stored in
                guard stored.state == .awaitingApproval, stored.evidence == read.evidence else {
                    throw Failure(
                        .conflict,
                        "promotion \(read.id) changed while you approved (now \(stored.state.rawValue)); see "
                            + "`tandem promote status \(read.id)` and approve again if it still waits")
                }
                stored.approvals.append(record)
            }
            try audit(
                p, action: "promotion.approval",
                detail: [
                    "actor": actor, "identity": context.actorIdentity.rawValue, "commit": p.commit, "model_digest": p.modelDigest,
                    "report_digest": p.reportDigest ?? "",
                ])
            return try advance(p.id)
        }
        let why = "rejected by \(actor)" + (reason.map { ": \($0)" } ?? "")
        // Compare-and-set: the rejection keeps approvals recorded meanwhile, and loses to a promotion that started.
        return try transition(
            p, to: .rejected, event: "promotion.rejected", summary: why, expecting: .awaitingApproval,
            change: {
                $0.approvals.append(record)
                $0.reason = why
            })
    }
}
