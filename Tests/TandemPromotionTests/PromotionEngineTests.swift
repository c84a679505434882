import Foundation
import TandemConformance
import TandemCore
import TandemPromotion
import TandemRegistry
import TandemTesting
import Testing

/// The promotion state machine on in-memory backends: no git, SQLite, feature store or binary.
@Suite("Promotion engine: states and approvals")
struct PromotionEngineTests {
    @Test("requested → testing → evaluating → awaiting_approval → promoting → promoted, code and model together")
    func promoted() throws {
        let w = try EngineWorld()
        try w.champion(ndcg: 0.75)
        let candidate = try w.branch("feature/ranker2", ndcg: 0.80)
        let started = try w.engine("dana").start(branch: "feature/ranker2", model: nil)
        #expect(started.state == .requested && started.version == candidate.version && started.requestedBy == "dana")
        #expect(started.commit == w.repository.branch("feature/ranker2"))

        let waiting = try w.engine("dana").advance(started.id)
        #expect(waiting.state == .awaitingApproval && waiting.state.exitStatus == .waiting)
        #expect(waiting.tests.count == 2 && waiting.tests.allSatisfy(\.passed))
        #expect(waiting.decision == "pass" && waiting.report?.hasPrefix("Decision: PASS") == true, "\(waiting.report ?? "")")
        let digest = try #require(waiting.reportDigest)
        let stored = String(decoding: try w.test.artifact(digest: digest), as: UTF8.self)
        #expect(stored.contains(#""promotion":"\#(started.id)""#) && stored.contains(#""champion":"prod:relevance-ranker@1""#))

        let done = try w.engine("bob").decide(started.id, approve: true, claimedIdentity: "bob", reason: nil)
        #expect(done.state == .promoted && done.state.exitStatus == .done)
        #expect(done.targetVersion == 2 && done.previousChampion == 1)
        let copy = try w.prod.version(.alias(EngineWorld.model, "champion"))
        #expect(
            copy.version == 2 && copy.copiedFrom == "test:relevance-ranker@1" && copy.artifactDigest == candidate.artifactDigest)
        #expect(try w.prod.aliases(name: EngineWorld.model) == ["champion": 2, "previous": 1])
        // The branch and its tag were published together, and the local branch follows.
        let merged = try #require(done.mergeCommit)
        #expect(w.repository.remoteBranch("production", on: "origin") == merged)
        #expect(w.repository.branch("production") == merged)
        #expect(w.repository.remoteTag("tandem/prod/relevance-ranker/v2", on: "origin")?.commit == merged)
        #expect(w.repository.isAncestor(started.commit, of: merged))
        // Production's lock file names prod's version and anchors prod's log for this promotion.
        let lock = try ModelLock.parse(try #require(w.repository.show(EngineWorld.lockPath, at: merged)))
        #expect(lock.environment == "prod" && lock.version == 2 && lock.auditHead?.promotion == started.id)
        let promotedEntry = try #require(try w.prod.auditLog().last)
        #expect(promotedEntry.action == "promotion.promoted" && promotedEntry.detail["approved_by"] == "bob")
        #expect(AuditChain.firstBrokenEntry(try w.prod.auditLog()) == nil)
        #expect(try w.store.lock(target: "prod", promotion: "p-next") == nil, "the target's lock was released")
        #expect(
            w.events == [
                "promotion.requested", "promotion.evaluated", "promotion.awaiting_approval", "promotion.approved",
                "promotion.promoted",
            ])
        let steps = try w.test.auditLog().filter { $0.detail["promotion"] == started.id }.map(\.action)
        #expect(
            steps == [
                "promotion.testing", "promotion.evaluating", "promotion.awaiting_approval", "promotion.approval",
                "promotion.promoting", "promotion.promoted",
            ])
    }

    @Test("failing integration tests end the promotion as failed (exit 1) before any evaluation")
    func testsFail() throws {
        let w = try EngineWorld()
        try w.champion()
        try w.branch("feature/x")
        w.failTests("pair 3 scored 0.41 online, 0.40 offline")
        let engine = w.engine("dana")
        let p = try engine.advance(try engine.start(branch: "feature/x", model: nil).id)
        #expect(p.state == .failed && p.state.exitStatus == .verdictNo && p.decision == nil && p.reportDigest == nil)
        #expect(p.reason == "inference pipeline: pair 3 scored 0.41 online, 0.40 offline")
        #expect(w.events == ["promotion.requested", "promotion.tests_failed"])
        #expect(try w.prod.versions(name: EngineWorld.model).count == 1)
    }

    @Test("a release manager's rejection ends it (exit 1); nothing reaches prod")
    func rejected() throws {
        let w = try EngineWorld()
        try w.champion()
        try w.branch("feature/x")
        let id = try w.engine("dana").advance(try w.engine("dana").start(branch: "feature/x", model: nil).id).id
        let p = try w.engine("alice").decide(id, approve: false, claimedIdentity: nil, reason: "not during the sale")
        #expect(p.state == .rejected && p.state.exitStatus == .verdictNo)
        #expect(p.reason == "rejected by alice: not during the sale")
        #expect(
            try w.prod.aliases(name: EngineWorld.model) == ["champion": 1]
                && w.repository.remoteBranch("production", on: "origin") == w.base)
        #expect(w.events.last == "promotion.rejected")
        expectPromotionError(exit: .badInput) { try w.engine("bob").decide(id, approve: true, claimedIdentity: nil, reason: nil) }
    }

    @Test("approvals count only from listed approvers, never the requester, never in another's name")
    func whoMayApprove() throws {
        let w = try EngineWorld()
        try w.champion()
        try w.branch("feature/x")
        let id = try w.engine("alice").advance(try w.engine("alice").start(branch: "feature/x", model: nil).id).id
        expectPromotionError(exit: .badInput) {
            try w.engine("mallory").decide(id, approve: true, claimedIdentity: nil, reason: nil)
        }
        expectPromotionError(exit: .badInput) {
            try w.engine("alice").decide(id, approve: true, claimedIdentity: nil, reason: nil)
        }
        expectPromotionError(exit: .badInput) {
            try w.engine("carol").decide(id, approve: true, claimedIdentity: "bob", reason: nil)
        }
        let p = try w.store.promotion(id)
        #expect(p.state == .awaitingApproval && p.approvals.isEmpty)
        #expect(try w.engine("carol").decide(id, approve: true, claimedIdentity: "carol", reason: nil).state == .promoted)
    }

    @Test("the required count: two different approvers; the same one twice counts once")
    func requiredCount() throws {
        let w = try EngineWorld(required: 2)
        try w.champion()
        try w.branch("feature/x")
        let id = try w.engine("dana").advance(try w.engine("dana").start(branch: "feature/x", model: nil).id).id
        let once = try w.engine("bob").decide(id, approve: true, claimedIdentity: nil, reason: nil)
        let twice = try w.engine("bob").decide(id, approve: true, claimedIdentity: nil, reason: nil)
        #expect(once.state == .awaitingApproval && twice.state == .awaitingApproval)
        #expect(w.engine("x").approvalsCount(twice) == 1 && w.engine("x").requiredApprovals(twice) == 2)
        let done = try w.engine("carol").decide(id, approve: true, claimedIdentity: nil, reason: nil)
        #expect(done.state == .promoted && w.engine("x").countedApprovers(done) == ["bob", "carol"])
        #expect(try w.prod.auditLog().last?.detail["approved_by"] == "bob,carol")
    }

    @Test("an approval is bound to its evidence: a new commit on the branch re-runs the tests and voids it")
    func evidenceBinding() throws {
        let w = try EngineWorld(required: 2)
        try w.champion()
        try w.branch("feature/x")
        let id = try w.engine("dana").advance(try w.engine("dana").start(branch: "feature/x", model: nil).id).id
        let approved = try w.engine("bob").decide(id, approve: true, claimedIdentity: nil, reason: nil)
        #expect(w.engine("x").approvalsCount(approved) == 1 && w.testRuns == 1)
        // The same approval against other evidence (another report) does not count.
        var other = approved
        other.reportDigest = String(repeating: "e", count: 64)
        #expect(w.engine("x").approvalsCount(other) == 0)

        let moved = try w.repository.commit(on: "feature/x", files: ["ranker.swift": "// faster\n"], message: "Faster")
        let again = try w.engine("dana").advance(id)
        #expect(again.state == .awaitingApproval && again.commit == moved && w.testRuns == 2)
        #expect(again.approvals.count == 1 && w.engine("x").approvalsCount(again) == 0, "bob approved the old commit")
        #expect(w.events.filter { $0 == "promotion.requested" }.count == 2)
        let p = try w.engine("carol").decide(id, approve: true, claimedIdentity: nil, reason: nil)
        #expect(p.state == .awaitingApproval, "one approval of the new evidence, two required")
        #expect(try w.engine("bob").decide(id, approve: true, claimedIdentity: nil, reason: nil).state == .promoted)
    }

    @Test("a lock file that disagrees with the registry is refused at start (exit 1); no branch is exit 2")
    func startRefusals() throws {
        let w = try EngineWorld()
        let v = try w.branch("feature/x")
        var lock = ModelLock(environment: "test", version: v)
        lock.artifactDigest = String(repeating: "0", count: 64)
        try w.repository.commit(on: "feature/x", files: [EngineWorld.lockPath: try lock.text()], message: "Edit the lock")
        expectPromotionError(exit: .verdictNo) { try w.engine("dana").start(branch: "feature/x", model: nil) }
        expectPromotionError(exit: .badInput) { try w.engine("dana").start(branch: "feature/none", model: nil) }
        #expect(try w.store.all().isEmpty && w.events.isEmpty)
    }
}
