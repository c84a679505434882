import Foundation
import TandemCore
import TandemGit
import TandemLearning
import TandemProfiles
import TandemPromotion
import TandemRegistry
import TandemTesting
import TandemWebhooks

/// Everything a promotion engine runs on, in memory: the test and prod registries, the promotion state, the outbox,
/// the repository (a `main` branch with the profiles, a `production` branch published to `origin`) and the held-out
/// scores of each model. Every backend shares one `Outage`, which is how a test kills the process mid-step.
final class EngineWorld: @unchecked Sendable {
    let outage = Outage()
    let test: InMemoryModelRegistry
    let prod: InMemoryModelRegistry
    let store: InMemoryPromotionStore
    let outbox: InMemoryOutbox
    let repository: InMemoryRepository
    let evaluator = InMemoryEvaluator()
    let source: Profile
    let target: Profile
    /// What the integration tests answer, and how often they ran.
    private let lock = NSLock()
    private var failing: String?
    private(set) var testRuns = 0
    /// The production branch's head before any promotion.
    /// Where feature branches start: `main`, which is also production (and origin's) until a promotion.
    private(set) var base: String

    static let model = "relevance-ranker"
    static let lockPath = ModelLock.path(model: model)

    init(
        required: Int = 1, approvers: [String] = ["alice", "bob", "carol"], minQueries: Int = 30,
        firstRelease: String = "require_approval"
    ) throws {
        test = InMemoryModelRegistry(outage: outage)
        prod = InMemoryModelRegistry(outage: outage)
        store = InMemoryPromotionStore(outage: outage)
        outbox = InMemoryOutbox(outage: outage)
        repository = InMemoryRepository(outage: outage)
        let set = try ProfileSet.load(
            repositoryRoot: "/nonexistent/tandem-engine-tests",
            files: [
                "test": Data(Self.testYAML.utf8),
                "prod": Data(
                    Self.prodYAML(required: required, approvers: approvers, minQueries: minQueries, firstRelease: firstRelease)
                        .utf8),
            ], directory: "environments")
        source = try requireProfile(set, "test")
        target = try requireProfile(set, "prod")
        base = try repository.commit(on: "main", files: ["README.md": "ranker\n"], message: "Start")
        try repository.setBranch("production", to: base)
        try repository.addRemote("origin", branches: ["production": base])
    }

    /// An engine acting as `actor`; `afterStep` is called after each promoting step is journaled done.
    func engine(_ actor: String, afterStep: @escaping @Sendable (String) -> Void = { _ in }) -> PromotionEngine {
        var context = PromotionContext(
            source: source, target: target, sourceRegistry: test, openTargetRegistry: { [prod] in prod }, store: store,
            messages: outbox, repository: repository, evaluator: evaluator, actor: actor,
            runIntegrationTests: { [self] _ in integrationTests() })
        context.afterStep = afterStep
        return PromotionEngine(context: context)
    }

    /// An engine that kills itself (takes every backend down) after the promoting step `step`.
    func engine(_ actor: String, crashingAfter step: String) -> PromotionEngine {
        engine(actor) { [outage] done in if done == step { outage.begin() } }
    }

    /// Makes the integration tests fail with `detail` (nil: pass).
    func failTests(_ detail: String?) {
        lock.lock()
        failing = detail
        lock.unlock()
    }

    func integrationTests() -> [TestResult] {
        lock.lock()
        defer { lock.unlock() }
        testRuns += 1
        return [
            TestResult(name: "training pipeline", passed: true, detail: "trained", seconds: 0.1),
            TestResult(name: "inference pipeline", passed: failing == nil, detail: failing ?? "parity", seconds: 0.1),
        ]
    }

    /// A real model artifact (a linear ranker over two features); `seed` makes each one different.
    static func artifact(seed: UInt64) throws -> Data {
        let signature = ModelSignature(
            featureSet: "relevance_v1", featureSetVersion: 1, featureTable: "relevance_v1@1",
            features: [.init(name: "bm25", type: "float"), .init(name: "ctr", type: "float")])
        let model = RankerModel(
            kind: .linear, sizes: [2, 1], parameters: RankerModel.initialParameters(sizes: [2, 1], seed: seed), mean: [0, 0],
            scale: [1, 1], signature: signature)
        return try ModelArtifact.encode(model, metrics: ["ndcg@10": 0.7], settings: TrainingSettings())
    }

    /// Registers a version in `registry` whose held-out NDCG@10 is `ndcg` on every one of `queries` queries.
    func register(
        in registry: InMemoryModelRegistry, seed: UInt64, ndcg: Double, queries: Int = 40, spread: Double = 0,
        model: String = EngineWorld.model
    ) throws -> ModelVersion {
        let bytes = try Self.artifact(seed: seed)
        let digest = try registry.storeArtifact(bytes)
        let version = try registry.createVersion(
            ModelVersion(
                name: model, runID: "run-\(seed)", artifactDigest: digest, artifactSize: bytes.count, signature: "{}",
                metrics: ["ndcg@10": ndcg], featureTable: "relevance_v1@1", dataDigest: "data", gitCommit: nil,
                gitBranch: nil, gitRemote: nil),
            actor: "dana")
        // Alternating ± spread around the mean: a spread wide enough makes the bootstrap interval straddle a margin.
        let values = (0..<queries).map { Optional(ndcg + ($0 % 2 == 0 ? spread : -spread)) }
        evaluator.set(
            InMemoryEvaluator.scores(["ndcg@10": values, "mrr": values, "ndcg@3": values]), forArtifact: digest)
        return version
    }

    /// A branch off `main` with a change and, committed on it, the lock file of a new test version.
    @discardableResult
    func branch(
        _ name: String, seed: UInt64 = 2, ndcg: Double = 0.80, queries: Int = 40, spread: Double = 0,
        model: String = EngineWorld.model, code: String = "ranker.swift", from: String? = nil, extra: [String: String] = [:]
    ) throws -> ModelVersion {
        let version = try register(in: test, seed: seed, ndcg: ndcg, queries: queries, spread: spread, model: model)
        try repository.commit(
            on: name,
            files: [
                code: "// \(name)\n", ModelLock.path(model: model): try ModelLock(environment: "test", version: version).text(),
            ].merging(extra) { $1 },
            message: "Train on \(name)", author: "dana", from: from ?? base)
        return version
    }

    /// Prod's champion: a version copied there earlier, with `ndcg` on the held-out queries.
    ///
    /// It got there as a promotion does: the production branch (and `main`, where branches start) gains prod's lock
    /// file of it, and a promoted record made it champion, so that every lane check holds before the test begins.
    func champion(ndcg: Double = 0.75, queries: Int = 40, model: String = EngineWorld.model) throws {
        let v = try register(in: prod, seed: 1, ndcg: ndcg, queries: queries, model: model)
        try prod.setAlias(name: model, alias: "champion", version: v.version, actor: "alice")
        base = try repository.commit(
            on: "main", files: [ModelLock.path(model: model): try ModelLock(environment: "prod", version: v).text()],
            message: "Promote \(model)@\(v.version) to prod (p-first-\(model))", author: "alice")
        try repository.setBranch("production", to: base)
        try repository.push(base, to: "origin", branch: "production")
        var first = Promotion(
            id: "p-first-\(model)", source: "test", target: "prod", branch: "feature/first", commit: base, model: model,
            version: v.version, modelDigest: v.artifactDigest, requestedBy: "dana", requestedAt: "2026-11-01T00:00:00.000Z",
            state: .promoted, updatedAt: "2026-11-01T00:00:00.000Z", tests: [], approvals: [])
        first.targetVersion = v.version
        first.mergeCommit = base
        try store.insert(first)
    }

    /// The event types the engine enqueued, in order.
    var events: [String] { outbox.messages.map(\.eventType) }

    static let testYAML = """
        description: Integration tests before prod.
        roots:
          features: file://.tandem/test/features
          registry: file://.tandem/test/registry
          compute: local://?max_jobs=2
        git:
          production_branch: main
        data:
          sample_input: fixtures/sample
          feature_set: relevance_v1
        promotes_to: prod
        reporter:
          kind: none
        approvals:
          required: 0
          approvers: []
        policy:
          primary_metric: ndcg@10
          min_improvement: 0.0
          confidence: 0.95
          first_release: pass
        """

    static func prodYAML(required: Int, approvers: [String], minQueries: Int, firstRelease: String) -> String {
        """
        description: Production.
        extends: test
        roots:
          features: file://.tandem/prod/features
          registry: file://.tandem/prod/registry
          compute: local://?max_jobs=2
        protected: true
        promotes_to: ~
        git:
          production_branch: production
          remote: origin
          tag_prefix: tandem/prod
        notifiers:
          - name: events
            kind: generic
            url: http://hooks.test/tandem
            secret_env: TANDEM_WEBHOOK_SECRET
            events: ["*"]
        approvals:
          required: \(required)
          approvers: [\(approvers.joined(separator: ", "))]
        policy:
          primary_metric: ndcg@10
          min_improvement: 0.005
          confidence: 0.95
          bootstrap_resamples: 2000
          seed: 20261128
          min_queries: \(minQueries)
          guardrails:
            - metric: mrr
              max_regression: 0.01
          first_release: \(firstRelease)
          latency_budget_ms: 50
        """
    }
}

/// The profile `name` of a set, or an error naming it.
func requireProfile(_ set: ProfileSet, _ name: String) throws -> Profile {
    guard let p = set.profiles[name] else { throw Failure(.invalidInput, "no profile \(name) in the test set") }
    return p
}
