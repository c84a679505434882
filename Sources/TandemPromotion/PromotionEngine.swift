import Foundation
import TandemCore
import TandemFeatures
import TandemGit
public import TandemLakehouse
import TandemLearning
import TandemPipeline
public import TandemProfiles
import TandemRegistry
import TandemStorage
public import TandemWebhooks

/// The promotion state machine (docs/architecture.md, "Promotion"): requested → testing → evaluating →
/// awaiting_approval → promoting → promoted, with failed and rejected as the other ends, and rolled_back after
/// promoted.
/// Every transition is saved, audited and reported through the outbox, so each step can run in another CI job.
public final class PromotionEngine: @unchecked Sendable {
    /// What the engine works with; a rehearsal (`tandem local test`) adjusts it before starting.
    public var context: PromotionContext
    /// The repository whose branches are promoted (`context.repository`).
    var git: any PromotionRepository { context.repository }

    public init(context: PromotionContext) {
        self.context = context
    }

    // MARK: Transitions and reports

    /// Moves `p` to `state` and saves it, then audits and reports the change. With `expecting`, the save is a
    /// compare-and-set on the stored promotion: it happens only while that is still in state `expecting` at `p`'s
    /// commit (else exit 2, `.conflict`, nothing saved: another process moved it), keeps whatever else was stored
    /// meanwhile (approvals), and applies `change` to it.
    @discardableResult
    func transition(
        _ p: Promotion, to state: PromotionState, event: String?, summary: String, expecting: PromotionState? = nil,
        change: (@Sendable (inout Promotion) -> Void)? = nil
    ) throws -> Promotion {
        var p = p
        let from = expecting ?? p.state
        let now = Timestamp.nowMillis()
        if let expecting {
            let read = p
            p = try context.store.update(p.id) { stored in
                guard stored.state == expecting, stored.commit == read.commit else {
                    throw Failure(
                        .conflict,
                        "\(read.id) changed meanwhile (now \(stored.state.rawValue) at \(stored.commit.prefix(12))): another "
                            + "process moved it; see `tandem promote status \(read.id)`")
                }
                change?(&stored)
                stored.state = state
                stored.updatedAt = now
            }
        } else {
            change?(&p)
            p.state = state
            p.updatedAt = now
            try context.store.save(p)
        }
        if from != state {
            try audit(p, action: "promotion.\(state.rawValue)", detail: ["from": from.rawValue, "summary": summary])
        }
        if let event { try report(p, event: event, summary: summary) }
        return p
    }

    func audit(_ p: Promotion, action: String, detail: [String: String]) throws {
        var d = detail
        d["promotion"] = p.id
        d["commit"] = p.commit
        try context.sourceRegistry.appendAudit(
            actor: context.actor, action: action, subject: "\(p.model)@\(p.version)", detail: d)
    }

    func report(_ p: Promotion, event: String, summary: String) throws {
        guard let outbox = context.messages else { return }
        let e = WebhookEvent(
            type: event, promotionID: p.id, environment: p.target, state: p.state.rawValue, commit: p.commit, branch: p.branch,
            model: p.model, modelVersion: p.targetVersion, sourceEnvironment: p.source, sourceVersion: p.version,
            reportDigest: p.reportDigest, summary: summary, link: nil,
            time: Timestamp.now())
        try outbox.enqueue(MessageFactory.messages(for: e, profile: context.rules(for: p.model), now: Timestamp.nowMillis()))
    }
}
