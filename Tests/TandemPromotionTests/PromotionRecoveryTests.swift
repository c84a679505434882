import Foundation
import TandemConformance
import TandemCore
import TandemPromotion
import TandemRegistry
import TandemTesting
import Testing

/// The promoting step's journal, and recovery after a process killed between two steps: in memory, the kill is an
/// outage of every backend at the moment the step is journaled done, so nothing after it lands.
@Suite("Promotion engine: journal and recovery")
struct PromotionRecoveryTests {
    /// A world with a champion and a branch whose promotion awaits one approval; its id.
    func awaiting() throws -> (EngineWorld, String) {
        let w = try EngineWorld()
        try w.champion(ndcg: 0.75)
        try w.branch("feature/x", ndcg: 0.80)
        let engine = w.engine("dana")
        let p = try engine.advance(try engine.start(branch: "feature/x", model: nil).id)
        try #require(p.state == .awaitingApproval)
        return (w, p.id)
    }

    /// Approves as bob with an engine killed after `step`; expects the kill to stop it, then brings the backends back.
    func approve(_ w: EngineWorld, _ id: String, killedAfter step: String) {
        #expect(throws: (any Error).self) {
            try w.engine("bob", crashingAfter: step).decide(id, approve: true, claimedIdentity: nil, reason: nil)
        }
        w.outage.end()
    }

    @Test("every step is journaled done, in order, with what undoing it needs")
    func journal() throws {
        let (w, id) = try awaiting()
        let seen = Steps()
        let engine = w.engine("bob") { seen.append($0) }
        let p = try engine.decide(id, approve: true, claimedIdentity: nil, reason: nil)
        #expect(seen.all == ["lock", "copy_version", "merge", "tag", "publish", "branch", "aliases", "finish"])
        let entries = try w.store.journalEntries(id)
        #expect(entries.values.allSatisfy { $0.status == "done" } && entries.count == 8)
        #expect(entries["copy_version"]?.detail == ["version": "2"])
        #expect(entries["merge"]?.detail == ["commit": p.mergeCommit ?? "", "previous": w.base])
        #expect(entries["tag"]?.detail == ["tag": "tandem/prod/relevance-ranker/v2"])
        #expect(entries["aliases"]?.detail == ["previous": "1"])
    }

    @Test("killed after the copy: recover undoes it; prod keeps the copy, not champion, and the branch is unchanged")
    func afterCopy() throws {
        let (w, id) = try awaiting()
        approve(w, id, killedAfter: "copy_version")
        #expect(try w.store.promotion(id).state == .promoting)
        #expect(try w.engine("x").interrupted().map(\.id) == [id])
        let p = try w.engine("bob").recover(id)
        #expect(p.state == .failed && p.targetVersion == 2)
        #expect(p.reason?.contains("keeps relevance-ranker@2") == true, "\(p.reason ?? "")")
        #expect(try w.prod.aliases(name: EngineWorld.model) == ["champion": 1])
        #expect(try w.prod.versions(name: EngineWorld.model).map(\.version) == [1, 2])
        #expect(try w.prod.auditLog().last?.action == "promotion.undone")
        #expect(w.repository.remoteBranch("production", on: "origin") == w.base && w.repository.branch("production") == w.base)
        #expect(try w.store.lock(target: "prod", promotion: "p-next") == nil)
        #expect(try w.store.journalEntries(id)["undone"]?.status == "done")
    }

    @Test("killed after the tag: recover deletes the promotion's tag; nothing was published")
    func afterTag() throws {
        let (w, id) = try awaiting()
        approve(w, id, killedAfter: "tag")
        #expect(w.repository.tag("tandem/prod/relevance-ranker/v2") != nil)
        let p = try w.engine("bob").recover(id)
        #expect(p.state == .failed)
        #expect(w.repository.tag("tandem/prod/relevance-ranker/v2") == nil)
        #expect(w.repository.remoteTag("tandem/prod/relevance-ranker/v2", on: "origin") == nil)
        #expect(w.repository.remoteBranch("production", on: "origin") == w.base)
        #expect(w.events.last == "promotion.failed")
    }

    @Test("killed after the publish (the commit point): recover finishes; branch, tag and champion move together")
    func afterPublish() throws {
        let (w, id) = try awaiting()
        approve(w, id, killedAfter: "publish")
        let merged = try #require(try w.store.promotion(id).mergeCommit)
        #expect(w.repository.remoteBranch("production", on: "origin") == merged && w.repository.branch("production") == w.base)
        #expect(try w.prod.aliases(name: EngineWorld.model) == ["champion": 1], "aliases move only after the commit point")
        let p = try w.engine("bob").recover(id)
        #expect(p.state == .promoted && w.repository.branch("production") == merged)
        #expect(try w.prod.aliases(name: EngineWorld.model) == ["champion": 2, "previous": 1])
        #expect(try w.prod.auditLog().filter { $0.action == "promotion.promoted" }.count == 1)
    }

    @Test("killed after the aliases: recover appends the promoted entry once and releases the lock")
    func afterAliases() throws {
        let (w, id) = try awaiting()
        approve(w, id, killedAfter: "aliases")
        #expect(try w.prod.aliases(name: EngineWorld.model) == ["champion": 2, "previous": 1])
        #expect(try w.prod.auditLog().contains { $0.action == "promotion.promoted" } == false)
        #expect(try w.store.lock(target: "prod", promotion: "p-other") == id, "the lock is still held")
        let p = try w.engine("bob").recover(id)
        #expect(p.state == .promoted)
        #expect(try w.prod.auditLog().filter { $0.action == "promotion.promoted" }.count == 1)
        #expect(try w.store.lock(target: "prod", promotion: "p-other") == nil)
    }

    @Test("killed after the finish step: recover completes the promotion without a second promoted entry")
    func afterFinish() throws {
        let (w, id) = try awaiting()
        approve(w, id, killedAfter: "finish")
        #expect(try w.prod.auditLog().filter { $0.action == "promotion.promoted" }.count == 1)
        let p = try w.engine("bob").recover(id)
        #expect(p.state == .promoted)
        #expect(try w.prod.auditLog().filter { $0.action == "promotion.promoted" }.count == 1)
    }

    @Test("a production branch moved during the promotion rejects the atomic push (exit 1); the promotion is undone")
    func movedBranch() throws {
        let (w, id) = try awaiting()
        let engine = w.engine("bob") { step in
            if step == "tag" { _ = try? w.repository.commit(on: "hotfix", files: ["hotfix": "1"], from: w.base) }
            if step == "tag", let hotfix = w.repository.branch("hotfix") {
                try? w.repository.push(hotfix, to: "origin", branch: "production")
            }
        }
        do {
            _ = try engine.decide(id, approve: true, claimedIdentity: nil, reason: nil)
            Issue.record("the push should have been rejected")
        } catch let error as any TandemError {
            #expect(error.exitStatus == .verdictNo, "\(error)")
        }
        let p = try w.store.promotion(id)
        #expect(p.state == .failed && w.repository.tag("tandem/prod/relevance-ranker/v2") == nil)
        #expect(try w.prod.aliases(name: EngineWorld.model) == ["champion": 1])
        #expect(w.repository.remoteBranch("production", on: "origin") == w.repository.branch("hotfix"))
    }

    @Test("another promotion holding the target's lock makes this one wait (exit 4), its approvals kept")
    func lockHeld() throws {
        let (w, id) = try awaiting()
        #expect(try w.store.lock(target: "prod", promotion: "p-other") == nil)
        expectPromotionError(exit: .waiting) { try w.engine("bob").decide(id, approve: true, claimedIdentity: nil, reason: nil) }
        let waiting = try w.store.promotion(id)
        #expect(waiting.state == .awaitingApproval && waiting.approvals.map(\.actor) == ["bob"])
        #expect(try w.store.journalEntries(id).isEmpty)
        try w.store.unlock(target: "prod", promotion: "p-other")
        #expect(try w.engine("dana").advance(id).state == .promoted)
    }

    @Test("rollback returns prod to the previous pair: a revert commit with the old tree, champion and previous swapped")
    func rollback() throws {
        let (w, id) = try awaiting()
        let promoted = try w.engine("bob").decide(id, approve: true, claimedIdentity: nil, reason: nil)
        expectPromotionError(exit: .badInput) { try w.engine("dana").rollback(model: EngineWorld.model) }
        let result = try w.engine("alice").rollback(model: EngineWorld.model)
        #expect(result.from == 2 && result.to == 1 && result.promotion == id)
        #expect(try w.prod.aliases(name: EngineWorld.model) == ["champion": 1, "previous": 2])
        let revert = try #require(w.repository.commitRecord(result.revertCommit))
        #expect(revert.parents == [promoted.mergeCommit ?? ""] && revert.files == w.repository.commitRecord(w.base)?.files)
        #expect(w.repository.remoteBranch("production", on: "origin") == result.revertCommit)
        #expect(try w.store.promotion(id).state == .rolledBack)
        #expect(try w.prod.auditLog().last?.action == "promotion.rolled_back")
    }
}

/// The steps an engine reported, in order.
final class Steps: @unchecked Sendable {
    private let lock = NSLock()
    private var steps: [String] = []

    func append(_ step: String) {
        lock.lock()
        steps.append(step)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return steps
    }
}
