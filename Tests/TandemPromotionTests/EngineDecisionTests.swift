import Foundation
import TandemCore
import TandemPromotion
import TandemRegistry
import TandemTesting
import Testing

/// The champion/challenger decision as the engine applies it: what each verdict does to the promotion. (The
/// statistics themselves are checked in ChampionChallengerTests.)
@Suite("Promotion engine: champion/challenger decisions")
struct EngineDecisionTests {
    func evaluated(_ w: EngineWorld) throws -> Promotion {
        let engine = w.engine("dana")
        return try engine.advance(try engine.start(branch: "feature/x", model: nil).id)
    }

    @Test("a challenger that clears the required improvement passes and waits for approval")
    func pass() throws {
        let w = try EngineWorld()
        try w.champion(ndcg: 0.75)
        try w.branch("feature/x", ndcg: 0.76)
        let p = try evaluated(w)
        #expect(p.state == .awaitingApproval && p.decision == "pass")
        #expect(p.report?.contains("challenger test:relevance-ranker@1 vs champion prod:relevance-ranker@1") == true)
    }

    @Test("a challenger that does not beat the champion by the margin fails: rejected (exit 1), nothing to approve")
    func fail() throws {
        let w = try EngineWorld()
        try w.champion(ndcg: 0.75)
        try w.branch("feature/x", ndcg: 0.752)
        let p = try evaluated(w)
        #expect(p.state == .rejected && p.decision == "fail" && p.state.exitStatus == .verdictNo)
        #expect(p.reason?.contains("fail — the challenger does not beat the champion by the required margin") == true)
        #expect(w.events == ["promotion.requested", "promotion.evaluated", "promotion.rejected"])
        #expect(
            try w.test.auditLog().filter { $0.detail["promotion"] == p.id }.map(\.action).suffix(2) == [
                "promotion.evaluating", "promotion.rejected",
            ])
    }

    @Test("a broken guardrail fails a challenger whose primary metric passes")
    func guardrail() throws {
        let w = try EngineWorld()
        try w.champion(ndcg: 0.75)
        let v = try w.branch("feature/x", ndcg: 0.80)
        let better = [Double?](repeating: 0.80, count: 40)
        let worse = [Double?](repeating: 0.70, count: 40)
        w.evaluator.set(InMemoryEvaluator.scores(["ndcg@10": better, "mrr": worse]), forArtifact: v.artifactDigest)
        let p = try evaluated(w)
        #expect(p.state == .rejected && p.decision == "fail")
        #expect(p.reason?.contains("MRR −0.050") == true && p.reason?.contains("guardrail broken") == true, "\(p.reason ?? "")")
    }

    @Test("fewer test queries than min_queries is inconclusive: rejected, whatever the difference")
    func tooFewQueries() throws {
        let w = try EngineWorld(minQueries: 30)
        try w.champion(ndcg: 0.5, queries: 20)
        try w.branch("feature/x", ndcg: 0.9, queries: 20)
        let p = try evaluated(w)
        #expect(p.state == .rejected && p.decision == "inconclusive")
        #expect(p.reason?.contains("only 20 test queries with relevant results, at least 30 needed") == true, "\(p.reason ?? "")")
    }

    @Test("an interval that straddles the required improvement is inconclusive")
    func straddles() throws {
        let w = try EngineWorld()
        try w.champion(ndcg: 0.75)
        try w.branch("feature/x", ndcg: 0.755, spread: 0.2)
        let p = try evaluated(w)
        #expect(p.state == .rejected && p.decision == "inconclusive")
        #expect(p.reason?.contains("the interval straddles the required improvement") == true, "\(p.reason ?? "")")
    }

    @Test("a first release (no champion) follows first_release: require_approval waits, refuse rejects")
    func firstRelease() throws {
        let w = try EngineWorld(firstRelease: "require_approval")
        try w.branch("feature/x", ndcg: 0.6)
        let p = try evaluated(w)
        #expect(p.state == .awaitingApproval && p.decision == "pass")
        #expect(
            p.report?.contains("(first release)") == true && p.report?.contains("policy first_release = require_approval") == true
        )
        let done = try w.engine("bob").decide(p.id, approve: true, claimedIdentity: nil, reason: nil)
        #expect(done.state == .promoted && done.targetVersion == 1 && done.previousChampion == nil)
        #expect(try w.prod.aliases(name: EngineWorld.model) == ["champion": 1])

        let refused = try EngineWorld(firstRelease: "refuse")
        try refused.branch("feature/x")
        let r = try evaluated(refused)
        #expect(r.state == .rejected && r.decision == "fail")

        let small = try EngineWorld(minQueries: 30, firstRelease: "pass")
        try small.branch("feature/x", queries: 10)
        let s = try evaluated(small)
        #expect(s.state == .rejected && s.decision == "inconclusive")
    }

    @Test("an unreachable prod registry stops the evaluation (exit 3) with nothing decided")
    func unreachableTarget() throws {
        let w = try EngineWorld()
        try w.branch("feature/x")
        let engine = w.engine("dana")
        let id = try engine.start(branch: "feature/x", model: nil).id
        var context = engine.context
        context.openTargetRegistry = { throw Failure(.unreachable, "prod is down") }
        do {
            _ = try PromotionEngine(context: context).advance(id)
            Issue.record("expected the evaluation to stop")
        } catch let error as Failure {
            #expect(error.code == .unreachable && error.exitStatus == .infrastructure)
        }
        let p = try w.store.promotion(id)
        #expect(p.state == .evaluating && p.decision == nil && p.reportDigest == nil)
    }
}
