import Foundation
public import TandemCore
public import TandemProfiles
public import TandemPromotion

extension StageContext {
    /// Builds the engine for a source environment (test); for a target environment (prod), the source is the one
    /// whose profile promotes to it.
    ///
    /// The target's profile is its production side (`ProductionSide`): the one committed at the head of its
    /// production branch. Without that branch there is nothing to judge a promotion by, so commands that decide
    /// (`needsGate`) refuse; `status` and `list` show the checkout's.
    public func promotionEngine(
        targetGiven: Bool = false, needsGate: Bool = true, note: @escaping @Sendable (String) -> Void
    ) throws -> PromotionEngine {
        let base = self
        let sourceName: String
        if targetGiven {
            guard let s = base.profiles.profiles.values.first(where: { $0.promotesTo == base.profile.name }) else {
                throw Failure(
                    .invalidInput,
                    "no environment promotes to '\(base.profile.name)'; set promotes_to: \(base.profile.name) in the source profile"
                )
            }
            sourceName = s.name
        } else {
            sourceName = base.profile.name
        }
        let source = StageContext(
            repositoryRoot: base.repositoryRoot, profiles: base.profiles, profile: try base.profiles.profile(named: sourceName))
        guard let targetName = source.profile.promotesTo else {
            throw Failure(
                .invalidInput,
                "\(source.profile.file) has no promotes_to; name the environment promotions from '\(sourceName)' go to")
        }
        let checkoutTarget = try source.profiles.profile(named: targetName)
        let side: ProductionSide?
        if needsGate {
            side = try ProductionSide.read(checkoutTarget, repositoryRoot: source.repositoryRoot)
        } else {
            side = (try? ProductionSide.read(checkoutTarget, repositoryRoot: source.repositoryRoot)) ?? nil
        }
        if side == nil && needsGate { throw Self.noProductionBranch(checkoutTarget) }
        let target = side?.profile ?? checkoutTarget
        // The production side's target beside the checkout's other profiles: still no two environments share a root.
        var profiles = source.profiles.profiles
        profiles[target.name] = target
        let set = try ProfileSet(repositoryRoot: source.repositoryRoot, profiles: profiles)
        let targetContext = StageContext(repositoryRoot: source.repositoryRoot, profiles: set, profile: target)
        if let side, needsGate { try targetContext.requireRecordedProductionBranch(side.branch) }
        return try source.promotionEngine(into: targetContext, productionSide: side, notify: true, note: note)
    }

    /// The refusal of a first promotion: a target whose production branch does not exist yet has no committed
    /// rules to be judged by (docs/security.md, "The gate").
    public static func noProductionBranch(_ target: Profile) -> Failure {
        let branch = target.git.productionBranch
        let create =
            target.git.remote.map { "git push \($0) main:\(branch)" } ?? "git branch \(branch) main"
        return Failure(
            .invalidInput,
            "\(target.name) has no production branch yet: \(target.git.remote.map { "remote '\($0)'" } ?? "this repository") "
                + "has no branch '\(branch)' (\(target.file): git.production_branch). A promotion into \(target.name) is judged "
                + "by the approvals, approvers, policy and protection committed on that branch, never by the branch being "
                + "promoted; create it once from your reviewed default branch (`\(create)`), protect it on your git "
                + "platform, and start again")
    }
}
