import Foundation
import TandemCore
import TandemProfiles
public import TandemPromotion

/// A promotion in words, as `tandem promote start|advance|status` print it: its pair, tests, report, approvals
/// (and who may still approve), the production commit and tag.
public enum PromotionText {
    /// `promote list`: one line a promotion, newest first.
    public static func list(_ promotions: [Promotion]) -> [String] {
        guard !promotions.isEmpty else { return ["no promotions yet"] }
        return promotions.map { p in
            "\(p.id)  \(p.state.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0))  \(p.branch) @ \(p.commit.prefix(8))  "
                + "\(p.model)@\(p.version) → \(p.target)  \(p.requestedAt)  by \(p.requestedBy)"
        }
    }

    public static func describe(_ p: Promotion, engine: PromotionEngine) -> String {
        var lines = ["promotion \(p.id): \(p.state.rawValue)"]
        lines.append("  \(p.branch) @ \(p.commit.prefix(12)) with \(p.source):\(p.model)@\(p.version) → \(p.target)")
        lines.append("  requested by \(p.requestedBy) at \(p.requestedAt)")
        for t in p.tests {
            lines.append(
                "  test \(t.passed ? "passed" : "FAILED"): \(t.name) (\(String(format: "%.1f", t.seconds)) s) — \(t.detail)")
        }
        if let report = p.report { lines.append(report.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")) }
        if let digest = p.reportDigest { lines.append("  report sha256:\(digest)") }
        for a in p.approvals {
            let counts = a.evidence == p.evidence ? "" : " (void: the evidence changed)"
            lines.append(
                "  \(a.approve ? "approved" : "rejected") by \(a.actor) (\((a.identity ?? .asserted).rawValue)) at \(a.at)\(counts)"
                    + (a.reason.map { ": \($0)" } ?? ""))
        }
        if p.state == .awaitingApproval {
            lines.append(
                "  approvals: \(engine.approvalsCount(p)) of \(engine.requiredApprovals(p)) from "
                    + engine.context.rules(for: p.model).approvals.approvers.joined(separator: ", ") + " (not \(p.requestedBy))")
        }
        if let m = p.mergeCommit {
            lines.append(
                "  \(engine.context.target.git.productionBranch) @ \(m.prefix(12))" + (p.tag.map { ", tag \($0)" } ?? ""))
        }
        if let v = p.targetVersion { lines.append("  \(p.target) version \(p.model)@\(v)") }
        if let r = p.reason { lines.append("  reason: \(r)") }
        return lines.joined(separator: "\n")
    }
}
