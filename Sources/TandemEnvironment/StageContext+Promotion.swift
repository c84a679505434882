import Foundation
import TandemCore
import TandemLakehouse
import TandemPostgres
import TandemProfiles
public import TandemPromotion
import TandemRegistry
import TandemStorage
import TandemWebhooks

extension StageContext {
    /// The promotion engine from this environment (the source, test) into `target` (prod): the one construction
    /// `tandem promote` and `tandem local test` share. The promotions, their journal and the outbox live in the
    /// source's state root (`roots.state`, else its registry root); the integration tests run as jobs on the source's compute backend.
    ///
    /// - Parameters:
    ///   - productionSide: the target's production side, whose profile `target` holds (nil for `tandem local
    ///     test`, which judges by the checkout's profiles).
    ///   - notify: whether events go to the outbox (a local rehearsal notifies nobody).
    ///   - note: where a stage tells its user what runs where.
    public func promotionEngine(
        into target: StageContext, productionSide: ProductionSide?, notify: Bool,
        note: @escaping @Sendable (String) -> Void
    ) throws -> PromotionEngine {
        let state = try openState(stage: "promote")
        // A runner that only approves (CI's fresh machine) has no ETL output: the steps that read the features
        // (integration tests, evaluation) say so if the promotion needs them again; a damaged root still stops here.
        let sourceStore: FeatureStore?
        do { sourceStore = try openFeatureStoreForReading() } catch let error as RootAccessError where error.kind == .empty {
            sourceStore = nil
        }
        var context = PromotionContext(
            repositoryRoot: repositoryRoot, source: profile, target: target.profile,
            sourceStore: sourceStore, sourceRegistry: try openRegistry(writer: .stage("promote")),
            openTargetRegistry: { try target.openRegistry(writer: .promotionEngine) }, resolve: { self.resolve($0) },
            store: state.promotions, outbox: notify ? state.outbox : nil,
            actor: Actor.current(), productionSide: productionSide)
        context.runIntegrationTests = try integrationTestRunner(
            latencyBudgetMs: target.profile.policy.latencyBudgetMs, note: note)
        return PromotionEngine(context: context)
    }
}
