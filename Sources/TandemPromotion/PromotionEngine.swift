import Foundation
import TandemCore
import TandemFeatures
import TandemGit
public import TandemLakehouse
import TandemLearning
import TandemPipeline
public import TandemProfiles
public import TandemRegistry
import TandemStorage
public import TandemWebhooks

/// The promotion state machine (docs/architecture.md, "Promotion"): requested → testing → evaluating →
/// awaiting_approval → promoting → promoted, with failed and rejected as the other ends, and rolled_back after
/// promoted.
/// Every transition is saved, audited and reported through the outbox, so each step can run in another CI job.
public final class PromotionEngine: @unchecked Sendable {
    /// What the engine works with; a rehearsal (`tandem local test`) adjusts it before starting.
    public var context: PromotionContext
    /// The repository whose branches are promoted (`context.repository`).
    var git: any PromotionRepository { context.repository }

    public init(context: PromotionContext) {
        self.context = context
    }

    // MARK: Start

    /// Records a promotion of `branch` (its head commit) and one model: `model` (or the name of `reference`) when
    /// given, else the one model whose lock file the branch changed, else the repository's only model. The version
    /// is `reference`'s, else the one the model's lock file on the branch names.
    ///
    /// Lanes never cross (docs/models.md): the branch may change the config and lock file of the promoted model
    /// only (since it left the production branch), and a second promotion of the same model into the same target
    /// waits (exit 4) until the first ends.
    public func start(branch: String, model: String? = nil, reference: ModelReference? = nil) throws -> Promotion {
        let commit: String
        do { commit = try git.commit(of: branch) } catch {
            throw Failure(.notFound, "no branch or commit '\(branch)' in \(context.repositoryRoot): \(error)")
        }
        let production =
            try context.productionSide?.commit
            ?? context.repository
            .productionBranch(context.target.git.productionBranch, remote: context.target.git.remote).currentHead()
        let catalogue = try ModelCatalogue.committed(at: commit, label: "\(branch)@\(commit.prefix(12)):", in: git)
        let changes = try ModelChanges.of(
            commit, since: production, catalogue: catalogue, baseCatalogue: context.productionSide?.models, in: git)
        let name = try catalogue.resolve(reference?.name ?? model, changed: changes.locks, what: "the promotion")
        let crossing = (production == nil ? changes.locks : changes.models).filter { $0 != name }
        guard crossing.isEmpty || context.rehearsal != nil else {
            throw Failure(
                .refused,
                "\(branch) changes the config or lock file of " + crossing.joined(separator: ", ")
                    + " as well as promoting \(name); a promotion moves one model, so nothing was started. Promote "
                    + "each model from a branch that changes only its own files under models/ (docs/models.md, Lanes)")
        }
        if context.rehearsal == nil,
            let active = try context.store.all().first(where: {
                $0.target == context.target.name && $0.model == name && !$0.state.isFinal
            })
        {
            throw Self.oneAtATime(active, model: name)
        }
        let lockPath = ModelLock.path(model: name)
        if let size = git.blobSize(lockPath, at: commit), size > InputLimits.lockFileBytes {
            throw Failure(
                .invalidInput,
                "\(lockPath) on \(branch) is \(size) bytes, larger than \(BoundedFile.describe(bytes: InputLimits.lockFileBytes)); "
                    + "a lock file is under 1 KiB: restore the one `tandem train` wrote")
        }
        let lock = git.show(lockPath, at: commit).flatMap { try? ModelLock.parse($0) }
        let chosen: ModelReference
        if let reference {
            chosen = reference
        } else if let lock {
            chosen = .version(lock.model, lock.version)
        } else {
            throw Failure(
                .invalidInput,
                "\(branch) has no \(lockPath); register \(name) on it with `tandem train`, or name a version with --model \(name)@VERSION"
            )
        }
        let version = try context.sourceRegistry.version(chosen)
        guard version.name == name else {
            throw reference == nil
                ? Failure(
                    .refused,
                    "\(lockPath) on \(branch) names a version of \(version.name), not of \(name); restore the lock file "
                        + "`tandem train --model \(name)` wrote")
                : Failure(
                    .invalidInput, "the promotion is for \(name) but --model names a version of \(version.name); name one model")
        }
        // A rehearsal promotes the version it just trained in its scratch registry: the branch's lock file names the
        // real test environment's and is not its evidence.
        if let lock, context.rehearsal == nil {
            var differences =
                lock.version != version.version
                ? ["version: lock \(lock.version), promoted \(version.version)"] : lock.differences(from: version)
            if lock.model != name { differences.insert("model: \(lockPath) names \(lock.model)", at: 0) }
            if lock.environment != context.source.name {
                differences.insert("environment: lock \(lock.environment), promoted from \(context.source.name)", at: 0)
            }
            guard differences.isEmpty else {
                throw Failure(
                    .refused,
                    "\(lockPath) on \(branch) disagrees with the \(context.source.name) registry: "
                        + differences.joined(separator: "; ") + " (see `tandem models verify`)")
            }
        }
        let now = Timestamp.nowMillis()
        let promotion = Promotion(
            id: "p-" + UUID().uuidString.lowercased().prefix(12), source: context.source.name, target: context.target.name,
            branch: branch,
            commit: commit, model: version.name, version: version.version, modelDigest: version.artifactDigest,
            requestedBy: context.actor,
            requestedAt: now, state: .requested, updatedAt: now, tests: [], approvals: [])
        if context.rehearsal != nil {
            try context.store.insert(promotion)
        } else if let active = try context.store.insertUnlessActive(promotion) {
            // Another runner started this model between the check above and now.
            throw Self.oneAtATime(active, model: name)
        }
        try report(promotion, event: "promotion.requested", summary: "\(branch) @ \(commit.prefix(12)) with \(version.reference)")
        return promotion
    }

    static func oneAtATime(_ active: Promotion, model: String) -> Failure {
        Failure(
            .waiting,
            "\(active.id) is promoting \(model) into \(active.target) (\(active.state.rawValue)); one promotion per "
                + "model at a time: wait for it to end, or reject it with `tandem promote reject \(active.id)`")
    }

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

    // MARK: Transitions and reports

    /// Moves `p` to `state` and saves it, then audits and reports the change. With `expecting`, the save is a
    /// compare-and-set on the stored promotion: it happens only while that is still in state `expecting` at `p`'s
    /// commit (else exit 2, `.conflict`, nothing saved: another process moved it), keeps whatever else was stored
    /// meanwhile (approvals), and applies `change` to it.
    @discardableResult
    func transition(
        _ p: Promotion, to state: PromotionState, event: String?, summary: String, expecting: PromotionState? = nil,
        change: (@Sendable (inout Promotion) -> Void)? = nil
    ) throws -> Promotion {
        var p = p
        let from = expecting ?? p.state
        let now = Timestamp.nowMillis()
        if let expecting {
            let read = p
            p = try context.store.update(p.id) { stored in
                guard stored.state == expecting, stored.commit == read.commit else {
                    throw Failure(
                        .conflict,
                        "\(read.id) changed meanwhile (now \(stored.state.rawValue) at \(stored.commit.prefix(12))): another "
                            + "process moved it; see `tandem promote status \(read.id)`")
                }
                change?(&stored)
                stored.state = state
                stored.updatedAt = now
            }
        } else {
            change?(&p)
            p.state = state
            p.updatedAt = now
            try context.store.save(p)
        }
        if from != state {
            try audit(p, action: "promotion.\(state.rawValue)", detail: ["from": from.rawValue, "summary": summary])
        }
        if let event { try report(p, event: event, summary: summary) }
        return p
    }

    func audit(_ p: Promotion, action: String, detail: [String: String]) throws {
        var d = detail
        d["promotion"] = p.id
        d["commit"] = p.commit
        try context.sourceRegistry.appendAudit(
            actor: context.actor, action: action, subject: "\(p.model)@\(p.version)", detail: d)
    }

    func report(_ p: Promotion, event: String, summary: String) throws {
        guard let outbox = context.messages else { return }
        let e = WebhookEvent(
            type: event, promotionID: p.id, environment: p.target, state: p.state.rawValue, commit: p.commit, branch: p.branch,
            model: p.model, modelVersion: p.targetVersion, sourceEnvironment: p.source, sourceVersion: p.version,
            reportDigest: p.reportDigest, summary: summary, link: nil,
            time: Timestamp.now())
        try outbox.enqueue(MessageFactory.messages(for: e, profile: context.rules(for: p.model), now: Timestamp.nowMillis()))
    }
}
