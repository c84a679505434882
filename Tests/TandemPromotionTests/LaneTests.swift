import Foundation
import TandemConformance
import TandemCore
import TandemProfiles
import TandemPromotion
import TandemRegistry
import TandemTesting
import Testing

/// Promotion lanes (docs/models.md): several models in one repository and one prod, each promoted and rolled back
/// without touching the others, on in-memory backends.
@Suite("Promotion lanes: many models, one production branch")
struct LaneTests {
    static let a = "ranker-a"
    static let b = "ranker-b"

    /// Prod with a champion v1 of both models, each reached by a promotion.
    func world() throws -> EngineWorld {
        let w = try EngineWorld()
        try w.champion(model: Self.a)
        try w.champion(model: Self.b)
        return w
    }

    /// Starts and approves a promotion of `branch` (dana requests, bob approves).
    @discardableResult
    func promote(_ w: EngineWorld, _ branch: String, model: String? = nil) throws -> Promotion {
        let engine = w.engine("dana")
        let p = try engine.advance(try engine.start(branch: branch, model: model).id)
        try #require(p.state == .awaitingApproval, "\(p.state) \(p.reason ?? "")")
        let done = try w.engine("bob").decide(p.id, approve: true, claimedIdentity: nil, reason: nil)
        try #require(done.state == .promoted, "\(done.reason ?? "")")
        return done
    }

    func expectLanesHold(_ w: EngineWorld, _ comment: Comment? = nil) throws {
        let checks = try w.engine("alice").check()
        #expect(checks.map(\.model) == [Self.a, Self.b], comment)
        for c in checks { #expect(c.holds, "\(c.model): \(c.differences) \(comment?.description ?? "")") }
    }

    @Test("rolling back one model undoes its promotion only: the other model's code, lock file and champion stay")
    func rollbackTouchesOneModel() throws {
        let w = try world()
        try expectLanesHold(w, "before")
        try w.branch("feature/a2", seed: 12, ndcg: 0.80, model: Self.a, code: "a.swift")
        let a2 = try promote(w, "feature/a2")
        try expectLanesHold(w, "after a2")
        try w.branch("feature/b2", seed: 22, ndcg: 0.80, model: Self.b, code: "b.swift")
        let b2 = try promote(w, "feature/b2")
        try expectLanesHold(w, "after b2")
        let bLock = w.repository.show(ModelLock.path(model: Self.b), at: "production")

        let result = try w.engine("alice").rollback(model: Self.a)
        #expect(result.from == a2.targetVersion && result.to == 1 && result.promotion == a2.id)
        #expect(try w.prod.version(.alias(Self.a, "champion")).version == 1)
        #expect(try w.prod.version(.alias(Self.b, "champion")).version == b2.targetVersion)
        let head = try #require(w.repository.remoteBranch("production", on: "origin"))
        #expect(head == result.revertCommit && w.repository.branch("production") == head)
        #expect(w.repository.show("a.swift", at: head) == nil, "a2's code is undone")
        #expect(w.repository.show("b.swift", at: head) == "// feature/b2\n", "b2's code stays")
        #expect(w.repository.show(ModelLock.path(model: Self.b), at: head) == bLock)
        let aLock = try ModelLock.parse(try #require(w.repository.show(ModelLock.path(model: Self.a), at: head)))
        #expect(aLock.version == 1 && aLock.environment == "prod")
        #expect(try w.store.promotion(b2.id).state == .promoted && w.store.promotion(a2.id).state == .rolledBack)
        try expectLanesHold(w, "after the rollback of a")

        // A second rollback has nothing to return to: a's v1 was its first champion.
        expectPromotionError(exit: .badInput) { try w.engine("alice").rollback(model: Self.a) }
        // b still rolls back on its own.
        let b = try w.engine("alice").rollback(model: Self.b)
        #expect(b.to == 1 && w.repository.show("b.swift", at: "production") == nil)
        try expectLanesHold(w, "after the rollback of b")
    }

    @Test("a rollback whose files a later promotion of another model changed is refused, nothing changed")
    func conflictingRollback() throws {
        let w = try world()
        try w.branch("feature/a2", seed: 12, model: Self.a, code: "a.swift", extra: ["shared.swift": "a\n"])
        try promote(w, "feature/a2")
        // b's branch starts after a's promotion and changes the same shared file.
        try w.branch(
            "feature/b2", seed: 22, model: Self.b, code: "b.swift", from: w.repository.branch("production"),
            extra: ["shared.swift": "b\n"])
        let b2 = try promote(w, "feature/b2")
        let head = w.repository.remoteBranch("production", on: "origin")
        let aliases = try w.prod.aliases(name: Self.a)
        do {
            _ = try w.engine("alice").rollback(model: Self.a)
            Issue.record("the rollback should have been refused")
        } catch let error as Failure {
            #expect(error.code == .refused && error.description.contains("shared.swift"), "\(error)")
        }
        #expect(w.repository.remoteBranch("production", on: "origin") == head && w.repository.branch("production") == head)
        #expect(try w.prod.aliases(name: Self.a) == aliases)
        #expect(try w.store.promotion(b2.id).state == .promoted)
        #expect(try w.store.lock(target: "prod", promotion: "p-next") == nil, "the rollback released the lock")
        try expectLanesHold(w)
    }

    @Test("a branch that changes another model's lock file is refused at start (exit 1), nothing recorded")
    func crossingBranch() throws {
        let w = try world()
        let other = try w.register(in: w.test, seed: 33, ndcg: 0.8, model: Self.b)
        try w.branch(
            "feature/both", seed: 12, model: Self.a,
            extra: [ModelLock.path(model: Self.b): try ModelLock(environment: "test", version: other).text()])
        expectPromotionError(exit: .badInput) { try w.engine("dana").start(branch: "feature/both") }
        do {
            _ = try w.engine("dana").start(branch: "feature/both", model: Self.a)
            Issue.record("a crossing branch was started")
        } catch let error as Failure {
            #expect(error.code == .refused && error.description.contains(Self.b), "\(error)")
        }
        #expect(try w.store.all().filter { $0.state != .promoted }.isEmpty)
    }

    @Test("a lock file that names another model, or another environment, is refused (exit 1)")
    func lockOfAnotherModel() throws {
        let w = try world()
        let other = try w.register(in: w.test, seed: 33, ndcg: 0.8, model: Self.b)
        try w.repository.commit(
            on: "feature/disguised",
            files: [
                "a.swift": "// a\n", ModelLock.path(model: Self.a): try ModelLock(environment: "test", version: other).text(),
            ],
            from: w.base)
        let own = try w.register(in: w.test, seed: 34, ndcg: 0.8, model: Self.a)
        try w.repository.commit(
            on: "feature/elsewhere",
            files: ["a.swift": "// a\n", ModelLock.path(model: Self.a): try ModelLock(environment: "dev", version: own).text()],
            from: w.base)
        for (branch, fragment) in [
            (
                "feature/disguised",
                "models/\(Self.a).lock.json on feature/disguised names a version of \(Self.b), not of \(Self.a)"
            ),
            ("feature/elsewhere", "environment: lock dev, promoted from test"),
        ] {
            do {
                _ = try w.engine("dana").start(branch: branch, model: branch == "feature/disguised" ? nil : Self.a)
                Issue.record("\(branch) was started")
            } catch let error as Failure {
                #expect(error.code == .refused && error.description.contains(fragment), "\(error)")
            }
        }
        #expect(try w.store.all().allSatisfy { $0.state == .promoted })
    }

    @Test("a rehearsal (tandem local test) promotes the version it trained, whatever the branch's lock file names")
    func rehearsalIgnoresTheLock() throws {
        let w = try world()
        try w.branch("feature/a2", seed: 12, model: Self.a, code: "a.swift")
        let rehearsed = try w.register(in: w.test, seed: 40, ndcg: 0.85, model: Self.a)
        let engine = w.engine("dana")
        expectPromotionError(exit: .verdictNo) {
            try engine.start(branch: "feature/a2", reference: .version(Self.a, rehearsed.version))
        }
        engine.context.rehearsal = try TrainingConfig.parse("model: \(Self.a)\n", displayName: "models/a.yaml")
        let p = try engine.start(branch: "feature/a2", reference: .version(Self.a, rehearsed.version))
        #expect(p.version == rehearsed.version)
    }

    @Test("two promotions of the same model wait (exit 4); another model's runs beside them")
    func oneActivePromotionPerModel() throws {
        let w = try world()
        try w.branch("feature/a2", seed: 12, model: Self.a, code: "a.swift")
        try w.branch("feature/a3", seed: 13, ndcg: 0.9, model: Self.a, code: "a3.swift")
        try w.branch("feature/b2", seed: 22, model: Self.b, code: "b.swift")
        let engine = w.engine("dana")
        let a2 = try engine.advance(try engine.start(branch: "feature/a2").id)
        #expect(a2.state == .awaitingApproval)
        expectPromotionError(exit: .waiting) { try engine.start(branch: "feature/a3") }
        let b2 = try engine.advance(try engine.start(branch: "feature/b2").id)
        #expect(b2.state == .awaitingApproval)
        // Approved in the other order: each lane holds after each step.
        #expect(try w.engine("bob").decide(b2.id, approve: true, claimedIdentity: nil, reason: nil).state == .promoted)
        try expectLanesHold(w, "after b2")
        #expect(try w.engine("bob").decide(a2.id, approve: true, claimedIdentity: nil, reason: nil).state == .promoted)
        try expectLanesHold(w, "after a2")
        // Once a2 ended, a3 may start.
        #expect(try engine.advance(try engine.start(branch: "feature/a3").id).state == .awaitingApproval)
    }

    @Test("each model's approvers come from its owners: team A's approver cannot approve team B's model")
    func ownersApprove() throws {
        let w = try world()
        try w.branch("feature/b2", seed: 22, model: Self.b, code: "b.swift")
        func engine(_ actor: String) throws -> PromotionEngine {
            let e = w.engine(actor)
            var teamA = e.context.target
            teamA.approvals.approvers = ["bob"]
            var teamB = e.context.target
            teamB.approvals.approvers = ["erin"]
            e.context.modelRules = [Self.a: teamA, Self.b: teamB]
            return e
        }
        let p = try engine("dana").advance(try engine("dana").start(branch: "feature/b2").id)
        #expect(p.state == .awaitingApproval)
        expectPromotionError(exit: .badInput) { try engine("bob").decide(p.id, approve: true, claimedIdentity: nil, reason: nil) }
        #expect(try engine("erin").decide(p.id, approve: true, claimedIdentity: nil, reason: nil).state == .promoted)
        // Rolling back b is b's approvers' call too (prod is protected).
        expectPromotionError(exit: .badInput) { try engine("bob").rollback(model: Self.b) }
        #expect(try engine("erin").rollback(model: Self.b).to == 1)
    }

    @Test("where prod requires verified identities, an asserted approver can neither approve nor roll back")
    func requireVerified() throws {
        let w = try world()
        try w.branch("feature/a2", seed: 12, model: Self.a, code: "a.swift")
        func engine(_ actor: String, verified: Bool) -> PromotionEngine {
            let e = w.engine(actor)
            e.context.target.approvals.requireVerified = true
            e.context.actorIdentity = verified ? .gitlabManualJob : .asserted
            return e
        }
        let p = try engine("dana", verified: false).advance(try engine("dana", verified: false).start(branch: "feature/a2").id)
        expectPromotionError(exit: .badInput) {
            try engine("bob", verified: false).decide(p.id, approve: true, claimedIdentity: nil, reason: nil)
        }
        let done = try engine("bob", verified: true).decide(p.id, approve: true, claimedIdentity: nil, reason: nil)
        #expect(done.state == .promoted && done.approvals.last?.identity == .gitlabManualJob)
        expectPromotionError(exit: .badInput) { try engine("alice", verified: false).rollback(model: Self.a) }
        #expect(try engine("alice", verified: true).rollback(model: Self.a).to == 1)
    }

    @Test("promote check names a crossed lane: a champion moved behind the engine's back")
    func checkFindsCrossedLane() throws {
        let w = try world()
        try w.branch("feature/a2", seed: 12, model: Self.a, code: "a.swift")
        try promote(w, "feature/a2")
        try w.prod.setAlias(name: Self.a, alias: "champion", version: 1, actor: "mallory")
        let checks = try w.engine("alice").check()
        let a = try #require(checks.first { $0.model == Self.a })
        #expect(!a.holds && a.champion == 1 && a.lock == 2, "\(a)")
        #expect(a.differences.contains { $0.contains("names @2") }, "\(a.differences)")
        #expect(checks.first { $0.model == Self.b }?.holds == true)
    }

    @Test(
        "two interleaved promotions of two models, the first killed after each journal step: recover, the second goes on, every lane holds",
        arguments: ["lock", "copy_version", "merge", "tag", "publish", "branch", "aliases", "finish"])
    func crashInterleaved(step: String) throws {
        let w = try world()
        try w.branch("feature/a2", seed: 12, model: Self.a, code: "a.swift")
        try w.branch("feature/b2", seed: 22, model: Self.b, code: "b.swift")
        let engine = w.engine("dana")
        let a2 = try engine.advance(try engine.start(branch: "feature/a2").id)
        let b2 = try engine.advance(try engine.start(branch: "feature/b2").id)
        try #require(a2.state == .awaitingApproval && b2.state == .awaitingApproval)
        #expect(throws: (any Error).self) {
            try w.engine("bob", crashingAfter: step).decide(a2.id, approve: true, claimedIdentity: nil, reason: nil)
        }
        w.outage.end()
        // While a2 holds prod's promoting lock, b2 waits (exit 4) with its approval kept; before a2's lock step
        // was journaled there is nothing to wait for.
        if step != "finish" {
            expectPromotionError(exit: .waiting) {
                try w.engine("bob").decide(b2.id, approve: true, claimedIdentity: nil, reason: nil)
            }
        }
        let recovered = try w.engine("alice").recover(a2.id)
        #expect([.promoted, .failed].contains(recovered.state), "\(step): \(recovered.state)")
        let b = try w.engine("bob").advance(b2.id)
        let done = b.state == .promoted ? b : try w.engine("bob").decide(b2.id, approve: true, claimedIdentity: nil, reason: nil)
        #expect(done.state == .promoted, "\(step): \(done.state) \(done.reason ?? "")")
        try expectLanesHold(w, "\(step)")
        let champions = try [Self.a, Self.b].map { try w.prod.version(.alias($0, "champion")).version }
        #expect(champions == [recovered.state == .promoted ? 2 : 1, 2], "\(step)")
    }
}
