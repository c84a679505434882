import Foundation
public import TandemGit
public import TandemLakehouse
public import TandemProfiles
public import TandemRegistry
public import TandemWebhooks

/// Everything the engine works with, resolved by the command line from the profiles: the environments' profiles,
/// and the backends it runs on, each behind the protocol that says what the engine needs of it (a registry, the
/// promotion state, an outbox, a git repository, an evaluator), so that it runs as well on in-memory ones
/// (TandemTesting) as on SQLite, MLflow and git.
public struct PromotionContext: Sendable {
    public var repositoryRoot: String
    public var source: Profile
    /// The target's profile as its production branch holds it (`ProductionSide`): its approvals, approvers,
    /// policy and protection judge every promotion.
    public var target: Profile
    /// Set by a rehearsal (`tandem local test`, which promotes nothing): the training config its integration test
    /// trains (the working tree's, with its `--set` overrides, rather than the commit's), and no lane check (a
    /// developer's checkout may change several models at once).
    public var rehearsal: TrainingConfig?
    /// Each model's rules for unit tests on in-memory backends (there is no production side there); see `rules(for:)`.
    public var modelRules: [String: Profile] = [:]
    /// Where `target` was read, so that a branch's own copy of it is compared and its changes shown; nil when the
    /// target is the checkout's (`tandem local test`, which promotes nothing).
    public var productionSide: ProductionSide?
    /// The source environment's feature store (test), which the in-process integration tests read; nil when they
    /// run elsewhere (`runIntegrationTests`).
    public var sourceStore: FeatureStore?
    /// The source environment's registry (test).
    public var sourceRegistry: any ModelRegistry
    /// Opens the target environment's registry as the promotion engine (prod).
    public var openTargetRegistry: @Sendable () throws -> any ModelRegistry
    /// Resolves a path in the repository.
    public var resolve: @Sendable (String) -> String
    public var store: any PromotionStateStore
    /// The outbox a stage delivers after each step (`tandem notify`; SQLite or PostgreSQL); setting it makes it
    /// `messages` too.
    public var outbox: (any DeliveryQueue)? {
        didSet { messages = outbox }
    }
    /// Where the engine enqueues its webhooks (the outbox, or one in memory); nil sends none.
    public var messages: (any MessageOutbox)?
    /// The repository whose branches are promoted.
    public var repository: any PromotionRepository
    /// Scores challenger and champion on the held-out test queries.
    public var evaluator: any ModelEvaluator
    public var actor: String
    /// Where `actor` came from; a command that establishes a verified identity (`tandem promote approve` in CI) sets it.
    public var actorIdentity: IdentitySource = .asserted
    /// Runs the integration tests elsewhere (a job on the source environment's compute backend); nil runs them
    /// in this process.
    public var runIntegrationTests: (@Sendable (Promotion) throws -> [TestResult])?
    /// Called after each promoting step is journaled `done`, with the step's name. By default it kills the process
    /// after the step `TANDEM_CRASH_AFTER` names (the crash tests of `tandem promote recover`).
    public var afterStep: @Sendable (String) -> Void = PromotionContext.crashAfterNamedStep

    /// The engine on the stages' backends: the feature store, git in `repositoryRoot`, the SQLite state and outbox.
    public init(
        repositoryRoot: String, source: Profile, target: Profile, sourceStore: FeatureStore?, sourceRegistry: any ModelRegistry,
        openTargetRegistry: @escaping @Sendable () throws -> any ModelRegistry, resolve: @escaping @Sendable (String) -> String,
        store: any PromotionStateStore, outbox: (any DeliveryQueue)?, actor: String,
        runIntegrationTests: (@Sendable (Promotion) throws -> [TestResult])? = nil, productionSide: ProductionSide? = nil
    ) {
        self.productionSide = productionSide
        self.repositoryRoot = repositoryRoot
        self.source = source
        self.target = target
        self.sourceStore = sourceStore
        self.sourceRegistry = sourceRegistry
        self.openTargetRegistry = openTargetRegistry
        self.resolve = resolve
        self.store = store
        self.outbox = outbox
        self.messages = outbox
        self.repository = Git(folder: repositoryRoot)
        self.evaluator =
            sourceStore.map { FeatureStoreEvaluator(store: $0) as any ModelEvaluator }
            ?? NoFeatureStoreEvaluator(environment: source.name)
        self.actor = actor
        self.runIntegrationTests = runIntegrationTests
    }

    /// The engine on backends of the caller's choice (in-memory ones in unit tests). The integration tests run through
    /// `runIntegrationTests`; there is no production side (the target's profile is the one given).
    public init(
        source: Profile, target: Profile, sourceRegistry: any ModelRegistry,
        openTargetRegistry: @escaping @Sendable () throws -> any ModelRegistry, store: any PromotionStateStore,
        messages: (any MessageOutbox)?, repository: any PromotionRepository, evaluator: any ModelEvaluator, actor: String,
        runIntegrationTests: @escaping @Sendable (Promotion) throws -> [TestResult]
    ) {
        self.repositoryRoot = ""
        self.source = source
        self.target = target
        self.sourceRegistry = sourceRegistry
        self.openTargetRegistry = openTargetRegistry
        self.resolve = { $0 }
        self.store = store
        self.messages = messages
        self.repository = repository
        self.evaluator = evaluator
        self.actor = actor
        self.runIntegrationTests = runIntegrationTests
    }

    /// The rules that judge a promotion of `model` into the target: its approvers, approvals, policy and notifiers as
    /// its owners on the production branch set them over the target's (`ProductionSide.rules(for:)`), else the
    /// target's.
    public func rules(for model: String) -> Profile {
        if let side = productionSide, side.profile == target { return side.rules(for: model) }
        return modelRules[model] ?? target
    }

    /// Kills this process after the step that `TANDEM_CRASH_AFTER` names (nothing when it is unset); pauses it for
    /// `TANDEM_PAUSE_SECONDS` (at most 60) after the step `TANDEM_PAUSE_AFTER` names, so that a test can restart the
    /// state database in the middle of a promotion.
    public static let crashAfterNamedStep: @Sendable (String) -> Void = { step in
        let environment = ProcessInfo.processInfo.environment
        if environment["TANDEM_CRASH_AFTER"] == step {
            kill(getpid(), SIGKILL)
        }
        if environment["TANDEM_PAUSE_AFTER"] == step {
            let seconds = min(60, environment["TANDEM_PAUSE_SECONDS"].flatMap(Double.init) ?? 5)
            FileManager.default.createFile(atPath: environment["TANDEM_PAUSE_MARKER"] ?? "/dev/null", contents: Data())
            Thread.sleep(forTimeInterval: seconds)
        }
    }
}
