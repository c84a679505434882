import Foundation
import TandemCore
import TandemGit
public import TandemProfiles

/// What a promoted branch changes in its own copy of the target's profile, against the production side's.
///
/// The branch's copy never judges the promotion (the production side does); a change is shown in the decision
/// report, and a promotion that carries one needs at least one approval even where production requires none
/// (a change to the gate is itself gated).
public enum GateChanges {
    /// The settings of a profile as `key → value` lines, in the profile's key order.
    static func settings(_ p: Profile) -> [(String, String)] {
        func list(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }
        func number(_ d: Double) -> String { String(describing: d) }
        let r = p.reporter
        let policy = p.policy
        return [
            ("roots.features", p.roots.features.description), ("roots.registry", p.roots.registry.description),
            ("roots.compute", p.roots.compute.description), ("roots.state", p.roots.state?.description ?? "~"),
            ("protected", String(p.protected)),
            ("promotes_to", p.promotesTo ?? "~"), ("git.production_branch", p.git.productionBranch),
            ("git.remote", p.git.remote ?? "~"), ("git.tag_prefix", p.git.tagPrefix),
            ("data.sample_input", p.data.sampleInput), ("data.feature_set", p.data.featureSet),
            ("reporter.kind", r.kind.rawValue), ("reporter.api", r.api ?? "~"), ("reporter.repository", r.repository ?? "~"),
            ("reporter.project", r.project ?? "~"), ("reporter.context", r.context ?? "~"),
            ("reporter.target_url", r.targetURL ?? "~"), ("reporter.url", r.url ?? "~"), ("reporter.url_env", r.urlEnv ?? "~"),
            ("reporter.token_env", r.tokenEnv ?? "~"), ("reporter.secret_env", r.secretEnv ?? "~"),
            (
                "notifiers",
                list(
                    p.notifiers.map {
                        "\($0.name) \($0.kind.rawValue) \($0.url ?? $0.urlEnv ?? "~") \(list($0.events))"
                            + ($0.secretEnv.map { " signed by \($0)" } ?? "")
                    })
            ),
            ("approvals.required", String(p.approvals.required)), ("approvals.approvers", list(p.approvals.approvers)),
            ("approvals.require_verified", String(p.approvals.requireVerified)),
            ("policy.primary_metric", policy.primaryMetric), ("policy.min_improvement", number(policy.minImprovement)),
            ("policy.confidence", number(policy.confidence)), ("policy.bootstrap_resamples", String(policy.bootstrapResamples)),
            ("policy.seed", String(policy.seed)), ("policy.min_queries", String(policy.minQueries)),
            (
                "policy.guardrails",
                list(policy.guardrails.map { "\($0.metric) ≤ \(number($0.maxRegression))" })
            ),
            ("policy.first_release", policy.firstRelease.rawValue),
            ("policy.latency_budget_ms", number(policy.latencyBudgetMs)),
        ]
    }

    /// `key old → new` (or only `key`) for every setting `branch` has otherwise than `production`.
    public static func between(production: Profile, branch: Profile, keysOnly: Bool = false) -> [String] {
        let old = settings(production)
        let new = Dictionary(settings(branch), uniquingKeysWith: { a, _ in a })
        return old.compactMap { key, value in
            guard let changed = new[key], changed != value else { return nil }
            return keysOnly ? key : "\(key) \(value) → \(changed)"
        }
    }

    /// What the branch at `commit` changes in the target's profile: the settings where its own committed copy
    /// differs both from the production side's and from the copy at its merge base with production (what it
    /// forked from), shown as `key production's → branch's`. A setting production changed after the branch
    /// forked is not the branch's change (the merge keeps production's). A branch whose profiles do not load, or
    /// that removes the target's, is a change too.
    ///
    /// With `model`, the owners of the model's config are compared as well (its approvers, approvals, policy keys and
    /// notifiers, applied over production's profile): a change there is shown as `owners of MODEL: key old → new`.
    public static func of(commit: String, production side: ProductionSide, repositoryRoot: String, model: String? = nil)
        -> [String]
    {
        var changes = profileChanges(commit: commit, production: side, repositoryRoot: repositoryRoot)
        if let model { changes += ownerChanges(commit: commit, production: side, repositoryRoot: repositoryRoot, model: model) }
        return changes
    }

    /// The owners of `model` as the branch writes them, against production's, when the branch changed them since it
    /// forked.
    static func ownerChanges(commit: String, production side: ProductionSide, repositoryRoot: String, model: String)
        -> [String]
    {
        let git = Git(folder: repositoryRoot)
        func owners(_ commit: String) throws -> ModelOwners? {
            try ModelCatalogue.committed(at: commit, label: "\(commit.prefix(12)):", in: git)[model]?.owners
        }
        let branchOwners: ModelOwners?
        do { branchOwners = try owners(commit) } catch {
            return ["owners of \(model): its config does not load (\(error)); production's apply"]
        }
        let production = side.models[model]?.owners
        guard branchOwners != production else { return [] }
        if let base = git.mergeBase(commit, side.commit), let forked = try? owners(base), forked == branchOwners { return [] }
        guard let branchRules = try? side.profile.applying(branchOwners, model: model, label: "\(commit.prefix(12)):") else {
            return ["owners of \(model): they cannot apply to \(side.profile.name); production's apply"]
        }
        let changed = between(production: side.rules(for: model), branch: branchRules)
        return (changed.isEmpty ? ["team \(production?.team ?? "~") → \(branchOwners?.team ?? "~")"] : changed)
            .map { "owners of \(model): \($0)" }
    }

    static func profileChanges(commit: String, production side: ProductionSide, repositoryRoot: String) -> [String] {
        let target = side.profile
        let file = "environments/\(target.name).yaml"
        func load(_ commit: String) throws -> Profile? {
            try ProductionSide.profiles(at: commit, label: "\(commit.prefix(12)):environments", repositoryRoot: repositoryRoot)
                .profiles[target.name]
        }
        let branch: Profile
        do {
            guard let p = try load(commit) else { return ["\(file) is removed"] }
            branch = p
        } catch {
            return ["its profiles do not load (\(error)); production's apply"]
        }
        let git = Git(folder: repositoryRoot)
        let forked = (try? git.run(["merge-base", commit, side.commit])).flatMap { try? load($0) }
        let changedSinceFork = Set(forked.map { between(production: $0, branch: branch, keysOnly: true) } ?? [])
        let all = between(production: target, branch: branch, keysOnly: true)
        let changes = between(production: target, branch: branch, keysOnly: false)
        return zip(all, changes).filter { forked == nil || changedSinceFork.contains($0.0) }.map(\.1)
    }

    /// The lines the decision report shows.
    public static func render(_ changes: [String], target: Profile, production: String) -> String {
        let owners = changes.filter { $0.hasPrefix("owners of ") }.count
        let what =
            owners == 0
            ? "environments/\(target.name).yaml"
            : owners == changes.count
                ? "its model's owners" : "environments/\(target.name).yaml and its model's owners"
        var lines = ["Gate: this branch changes \(what) (\(production)'s applies):"]
        lines += changes.map { "  • \($0)" }
        let needed = max(target.approvals.required, 1)
        lines.append(
            "  a change to the gate is itself gated: \(needed) approval(s) from "
                + (target.approvals.approvers.isEmpty
                    ? "nobody (no approvers)" : target.approvals.approvers.joined(separator: ", ")))
        return lines.joined(separator: "\n")
    }
}
