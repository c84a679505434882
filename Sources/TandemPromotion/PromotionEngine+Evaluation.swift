import Foundation
import TandemCore
import TandemLearning
import TandemPipeline
import TandemProfiles
import TandemRegistry

/// The champion/challenger evaluation of a promotion and its stored report.
extension PromotionEngine {
    func evaluate(_ p: Promotion) throws -> Promotion {
        var p = p
        let policy = context.rules(for: p.model).policy
        if let side = context.productionSide {
            p.gateChanges = GateChanges.of(
                commit: p.commit, production: side, repositoryRoot: context.repositoryRoot, model: p.model)
        }
        let challengerVersion = try context.sourceRegistry.version(.version(p.model, p.version))
        let challenger = try ModelLoading.model(of: challengerVersion, in: context.sourceRegistry)
        var champion: (RankerModel, String, ModelVersion)?
        // Only the target registry's answer that there is no champion alias means a first release; an unreachable
        // or damaged target registry stops the evaluation with its own exit status (3), nothing written.
        let targetRegistry = try context.openTargetRegistry()
        let championVersion = try Failure.unlessNotFound { try targetRegistry.version(.alias(p.model, "champion")) }
        if let v = championVersion {
            let model = try ModelLoading.model(of: v, in: targetRegistry, label: "\(context.target.name):\(v.reference)")
            champion = (model, "\(context.target.name):\(v.reference)", v)
        }
        // Both are scored on the test queries of the same table: queries that neither early stopping nor sweep
        // selection saw (docs/data-contract.md, "Train/validation/test split").
        let scored = try context.evaluator.evaluate(
            challenger: EvaluatedModel(model: challenger, version: challengerVersion),
            champion: champion.map { EvaluatedModel(model: $0.0, version: $0.2) })
        let decision = ChampionChallenger.decide(
            policy: policy, challenger: scored.challenger.perQuery, champion: scored.champion?.perQuery,
            challengerMeans: scored.challenger.means, championMeans: scored.champion?.means)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        struct Stored: Encodable {
            var promotion: String
            var challenger: String
            var champion: String?
            var featureTable: String
            var report: ChampionChallenger.Report
            enum CodingKeys: String, CodingKey {
                case promotion, challenger, champion, report
                case featureTable = "feature_table"
            }
        }
        let stored = try encoder.encode(
            Stored(
                promotion: p.id, challenger: challengerVersion.reference, champion: champion?.1,
                featureTable: scored.table, report: decision))
        p.reportDigest = try context.sourceRegistry.storeArtifact(stored)
        p.report = ChampionChallenger.render(
            decision, champion: champion?.1, challenger: "\(context.source.name):\(challengerVersion.reference)")
        if let changes = p.gateChanges, !changes.isEmpty, let side = context.productionSide {
            p.report =
                (p.report ?? "") + "\n"
                + GateChanges.render(
                    changes, target: context.rules(for: p.model), production: "\(side.branch)@\(side.commit.prefix(12))")
        }
        p.decision = decision.decision.rawValue
        let summary = decision.reasons.first ?? decision.decision.rawValue
        switch decision.decision {
        case .pass:
            p = try transition(p, to: .awaitingApproval, event: "promotion.evaluated", summary: summary)
            return try transition(
                p, to: .awaitingApproval, event: "promotion.awaiting_approval",
                summary: "\(requiredApprovals(p)) approval(s) needed from "
                    + context.rules(for: p.model).approvals.approvers.joined(separator: ", "))
        case .fail, .inconclusive:
            p.reason = decision.reasons.joined(separator: "; ")
            p = try transition(p, to: .evaluating, event: "promotion.evaluated", summary: summary)
            return try transition(
                p, to: .rejected, event: "promotion.rejected", summary: "challenger \(decision.decision.rawValue): \(summary)")
        }
    }
}
