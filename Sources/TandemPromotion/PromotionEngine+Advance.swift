import Foundation
import TandemCore
import TandemGit
import TandemLakehouse
import TandemProfiles
import TandemRegistry

/// Advancing a promotion through its states, and its integration tests.
extension PromotionEngine {
    // MARK: Advance

    /// Continues a promotion from where it stands until it waits for approvals or ends.
    public func advance(_ id: String) throws -> Promotion {
        var p = try context.store.promotion(id)
        if p.state == .promoting {
            // Another process moved it to promoting and runs its steps (or died doing so): never run them twice.
            throw Failure(
                .waiting,
                "\(p.id) is being promoted by another process (since \(p.updatedAt)); if that process was killed, "
                    + "`tandem promote recover \(p.id)` finishes or undoes it")
        }
        while true {
            // A new commit on the branch voids the evidence: test and evaluate again.
            if [.testing, .evaluating, .awaitingApproval].contains(p.state), let head = try? git.commit(of: p.branch),
                head != p.commit
            {
                p.commit = head
                p.reportDigest = nil
                p = try transition(
                    p, to: .testing, event: "promotion.requested",
                    summary: "\(p.branch) moved to \(head.prefix(12)); earlier approvals no longer count")
                continue
            }
            switch p.state {
            case .requested:
                p = try transition(p, to: .testing, event: nil, summary: "")
            case .testing:
                p = try runTests(p)
            case .evaluating:
                p = try evaluate(p)
            case .awaitingApproval:
                if approvalsCount(p) >= requiredApprovals(p) {
                    // Compare-and-set: of two runners that see enough approvals at once, one promotes.
                    do {
                        p = try transition(
                            p, to: .promoting, event: "promotion.approved", summary: approvalSummary(p),
                            expecting: .awaitingApproval)
                    } catch let failure as Failure where failure.code == .conflict {
                        return try context.store.promotion(p.id)
                    }
                } else {
                    return p
                }
            case .promoting:
                p = try Promoter(engine: self).promote(p)
            case .promoted, .failed, .rejected, .rolledBack:
                return p
            }
        }
    }

    func runTests(_ p: Promotion) throws -> Promotion {
        var p = p
        p.tests = try context.runIntegrationTests?(p) ?? integrationTests(for: p)
        let failed = p.tests.filter { !$0.passed }
        if failed.isEmpty {
            return try transition(p, to: .evaluating, event: nil, summary: "integration tests passed")
        }
        p.reason = failed.map { "\($0.name): \($0.detail)" }.joined(separator: "; ")
        return try transition(p, to: .failed, event: "promotion.tests_failed", summary: p.reason ?? "")
    }

    /// Runs the integration tests of a promotion's pair in this process: the branch's training configuration
    /// (read from its commit) through the training pipeline, the candidate version through the inference
    /// pipeline. `tandem promote integration-tests` calls it inside a compute job.
    public func integrationTests(for p: Promotion) throws -> [TestResult] {
        guard let store = context.sourceStore else {
            throw Failure(
                .invalidInput, "the integration tests of \(p.id) need the \(p.source) feature store, which this engine has not")
        }
        return try IntegrationTests.run(
            for: p, config: context.rehearsal, registry: context.sourceRegistry, store: store,
            repositoryRoot: context.repositoryRoot,
            sampleInput: context.resolve(context.source.data.sampleInput),
            latencyBudgetMs: context.rules(for: p.model).policy.latencyBudgetMs)
    }
}
