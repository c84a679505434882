import Foundation
import TandemCore
public import TandemProfiles

/// Profiles in words, as `tandem env list` and `env show` print them.
public enum ProfileText {
    /// `env list`: each environment's three roots, one a line.
    public static func list(_ profiles: [Profile]) -> [String] {
        let indent = String(repeating: " ", count: 13)
        var lines = ["ENVIRONMENT  FEATURES / REGISTRY / COMPUTE"]
        for p in profiles {
            let comment = p.description.isEmpty ? "" : "   # \(p.description)"
            lines.append(p.name.padding(toLength: 12, withPad: " ", startingAt: 0) + " " + p.roots.features.description)
            lines.append(indent + p.roots.registry.description)
            lines.append(indent + p.roots.compute.description + comment)
        }
        return lines
    }

    /// `env show`: the resolved profile; secrets only by the variables that hold them.
    public static func show(_ p: Profile, view: ProfileView) -> [String] {
        var lines = ["environment \(p.name)  (\(p.file)\(p.extends.map { ", extends \($0)" } ?? ""))"]
        if !p.description.isEmpty { lines.append("  \(p.description)") }
        for role in ["features", "registry", "compute", "state"] {
            guard let r = view.roots[role] else { continue }
            let secret = role == "state" ? (p.secretVariables.first { $0.key == "roots.state password_env" }?.variable) : nil
            lines.append(
                "  \(role.padding(toLength: 9, withPad: " ", startingAt: 0)) \(r.url)" + (r.path.map { "  → \($0)" } ?? "")
                    + (secret.map { "  (password in $\($0))" } ?? ""))
        }
        lines.append("  git       production branch \(p.git.productionBranch)" + (p.git.remote.map { ", remote \($0)" } ?? ""))
        lines.append("  reporter  \(p.reporter.kind.rawValue)" + (p.reporter.tokenEnv.map { " (token in $\($0))" } ?? ""))
        for n in p.notifiers {
            lines.append(
                "  notifier  \(n.name): \(n.kind.rawValue)" + (n.urlEnv.map { " (URL in $\($0))" } ?? "") + " on "
                    + n.events.joined(separator: ", "))
        }
        lines.append("  approvals \(p.approvals.required) of \(p.approvals.approvers.joined(separator: ", "))")
        let policy = p.policy
        lines.append(
            "  policy    \(policy.primaryMetric) ≥ +\(policy.minImprovement) at \(Int(policy.confidence * 100))% confidence"
                + ", first release: \(policy.firstRelease.rawValue)")
        for g in policy.guardrails {
            lines.append("            guardrail \(g.metric) may not fall by more than \(g.maxRegression)")
        }
        return lines
    }
}
