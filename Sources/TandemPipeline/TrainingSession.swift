import Foundation
import TandemCore
import TandemFeatures
import TandemGit
public import TandemLakehouse
public import TandemLearning
public import TandemProfiles
public import TandemRegistry

/// One training, end to end: resolves the feature table, splits it, tracks the run, trains, stores the
/// artifact, and (unless told not to) registers the version and records it on the branch.
///
/// `tandem train`, each trial of a sweep and `tandem local test` train through it. What it reads and writes is
/// handed in (the stage opens the environment's stores through its root guard), so it knows no command line.
public struct TrainingSession {
    /// Where a training reads and writes: the environment's stores, opened when the session needs them (the
    /// feature store first, so a missing table is reported before the registry is touched).
    public struct Environment {
        /// The environment's name (runs are tagged with it; lock files name it).
        public var name: String
        /// The repository the configuration and the lock file belong to.
        public var repositoryRoot: String
        public var openFeatureStore: () throws -> FeatureStore
        public var openRegistry: () throws -> any ModelRegistry
        /// Where the registry keeps an artifact of a digest on disk (what `--json` reports as `artifact`).
        public var artifactPath: (String) throws -> String

        public init(
            name: String, repositoryRoot: String, openFeatureStore: @escaping () throws -> FeatureStore,
            openRegistry: @escaping () throws -> any ModelRegistry, artifactPath: @escaping (String) throws -> String
        ) {
            self.name = name
            self.repositoryRoot = repositoryRoot
            self.openFeatureStore = openFeatureStore
            self.openRegistry = openRegistry
            self.artifactPath = artifactPath
        }
    }

    public let environment: Environment
    public let config: TrainingConfig
    public var parentRun: String?
    public var register = true
    public var writeLock = true
    public var observe: (TrainingEvent) -> Void = { _ in }
    public var shouldStop: () -> Bool = { false }

    public init(environment: Environment, config: TrainingConfig) {
        self.environment = environment
        self.config = config
    }

    /// What `tandem train --json` prints.
    public struct Result: Encodable {
        public var runID: String
        public var model: String
        public var version: Int?
        public var artifact: String
        public var digest: String
        /// The best model's metrics on the held-out test queries (the version's reported quality).
        public var metrics: [String: Double]
        /// Its metrics on the validation queries (what early stopping and sweeps choose by).
        public var validationMetrics: [String: Double]
        /// The number of test queries `metrics` were measured on.
        public var testQueries: Int
        public var numericEnvironment: NumericEnvironment
        /// Set when an earlier version of this model had the same inputs but other bytes, and why.
        public var reproducibilityNote: String?
        public var featureTable: String
        /// The tables of the views joined to it (nil when it reads one view).
        public var joinedTables: [String]?
        public var dataDigest: String
        public var bestEpoch: Int
        public var epochs: Int
        public var interrupted: Bool
        public var examplesPerSecond: Double
        public var lockFile: String?
        public var lockCommit: String?

        enum CodingKeys: String, CodingKey {
            case runID = "run_id"
            case model, version, artifact, digest, metrics
            case validationMetrics = "validation_metrics"
            case testQueries = "test_queries"
            case numericEnvironment = "numeric_environment"
            case reproducibilityNote = "reproducibility_note"
            case featureTable = "feature_table"
            case joinedTables = "joined_tables"
            case dataDigest = "data_digest"
            case bestEpoch = "best_epoch"
            case epochs, interrupted
            case examplesPerSecond = "examples_per_second"
            case lockFile = "lock_file"
            case lockCommit = "lock_commit"
        }
    }

    public func run() throws -> Result {
        let actor = Actor.current()
        let store = try environment.openFeatureStore()
        let inputs = try TrainingInputs(
            store: store, featureSet: config.featureSet, tableVersion: config.featureTableVersion, features: config.features,
            joining: config.joinedViews.map { ($0.name, $0.table) })
        try inputs.requireTrainable()
        let table = inputs.table
        let settings = TrainingSettings(config)
        let numeric = NumericEnvironment.current(threads: settings.threads)

        let registry = try environment.openRegistry()
        // Runs of trainings killed on this host are marked failed before this one starts (RunRecovery).
        _ = try RunRecovery.recover(registry)
        let git = GitInfo.current(at: environment.repositoryRoot)
        let provisional = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        var run = RunRecord(
            id: provisional, experiment: config.model, name: parentRun == nil ? "train" : "trial", parentID: parentRun,
            startedAt: Timestamp.nowMillis(), parameters: config.parameters,
            tags: [
                "tandem.version": TandemVersion.current, "tandem.environment": environment.name, "tandem.actor": actor,
                "tandem.config": config.file, "tandem.blas": numeric.blas, "tandem.blas_core": numeric.blasCore,
                "tandem.threads": String(numeric.threads), "tandem.scoring_kernel": numeric.scoringKernel,
            ].merging(RunRecovery.ownerTags()) { a, _ in a },
            gitCommit: git?.commit, gitBranch: git?.branch, gitDirty: git?.dirty, featureTable: table.reference,
            dataDigest: inputs.dataDigest)
        // The registry may assign its own id (an MLflow server does).
        let runID = try registry.createRun(run)
        run.id = runID
        do {
            return try train(run: run, registry: registry, inputs: inputs, settings: settings, numeric: numeric, git: git)
        } catch {
            // A failure after the run started (a full disk, a registry gone) ends the run as failed when the registry
            // still takes writes; when it does not, the next `tandem train` or `tandem jobs recover` does.
            run.status = "FAILED"
            run.endedAt = Timestamp.nowMillis()
            run.tags[RunRecovery.failureTag] = "error: the training stopped on an error (exit \(Self.exitStatus(error)))"
            try? registry.updateRun(run)
            throw error
        }
    }

    /// The exit status a stage reports for `error`.
    public static func exitStatus(_ error: any Error) -> Int32 {
        (error as? any TandemError)?.exitStatus.rawValue ?? ExitStatus.infrastructure.rawValue
    }

    /// Trains, stores the artifact and registers the version, for a run already created.
    private func train(
        run: RunRecord, registry: any ModelRegistry, inputs: TrainingInputs, settings: TrainingSettings,
        numeric: NumericEnvironment, git: GitInfo?
    ) throws -> Result {
        var run = run
        let runID = run.id
        let actor = Actor.current()
        let table = inputs.table
        let split = inputs.split
        let signature = inputs.signature
        let started = ContinuousClock.now

        let trainer = Trainer(settings: settings, train: split.train, validation: split.validation, signature: signature)
        var logError: (any Error)?
        let outcome = trainer.run(
            observe: { event in
                observe(event)
                if case .epoch(let record, _) = event {
                    let now = Timestamp.nowMillis()
                    var points = [MetricPoint(key: "train_loss", value: record.loss, step: record.epoch, timestamp: now)]
                    points += record.metrics.sorted { $0.key < $1.key }.map {
                        MetricPoint(key: "val_\($0.key)", value: $0.value, step: record.epoch, timestamp: now)
                    }
                    points.append(
                        MetricPoint(
                            key: "examples_per_second", value: record.examplesPerSecond, step: record.epoch, timestamp: now))
                    do { try registry.logMetrics(runID: runID, points) } catch { logError = error }
                }
            }, shouldStop: shouldStop)
        if let logError { throw logError }
        let validationMetrics = outcome.history.first { $0.epoch == outcome.bestEpoch }?.metrics ?? [:]
        // The version's quality: the best model on the test queries, which nothing in the training looked at.
        let test = split.test
        let testReport = RankingMetrics.evaluate(
            groups: test.groups, labels: test.labels, scores: Scorer(model: outcome.model).score(test.features, rows: test.rows))
        let metrics = testReport.means
        var model = outcome.model
        model.featureContract = inputs.featureContract
        let artifact = try ModelArtifact.encode(model, metrics: metrics, settings: settings, numeric: numeric)
        let digest = try registry.storeArtifact(artifact)
        let d = ContinuousClock.now - started
        run.status = "FINISHED"
        run.endedAt = Timestamp.nowMillis()
        run.artifactDigest = digest
        run.timings = [
            "train_seconds": outcome.seconds,
            "total_seconds": d.seconds,
        ]
        run.tags["tandem.best_epoch"] = String(outcome.bestEpoch)
        if outcome.interrupted { run.tags["tandem.stopped_by_user"] = "true" }
        try registry.logMetrics(
            runID: runID,
            metrics.sorted { $0.key < $1.key }.map {
                MetricPoint(key: "test_\($0.key)", value: $0.value, step: outcome.bestEpoch, timestamp: run.endedAt ?? "")
            })
        try registry.updateRun(run)

        var result = Result(
            runID: runID, model: config.model, version: nil,
            artifact: try environment.artifactPath(digest),
            digest: digest, metrics: metrics, validationMetrics: validationMetrics, testQueries: testReport.definedQueries,
            numericEnvironment: numeric, featureTable: table.reference, joinedTables: inputs.signature.joined,
            dataDigest: inputs.dataDigest,
            bestEpoch: outcome.bestEpoch,
            epochs: outcome.history.count, interrupted: outcome.interrupted, examplesPerSecond: outcome.examplesPerSecond)
        guard register else { return result }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let version = try registry.createVersion(
            ModelVersion(
                name: config.model, runID: runID, artifactDigest: digest, artifactSize: artifact.count,
                signature: String(decoding: try encoder.encode(signature), as: UTF8.self), metrics: metrics,
                featureTable: table.reference, dataDigest: inputs.dataDigest, gitCommit: git?.commit, gitBranch: git?.branch,
                gitRemote: git?.remote), actor: actor)
        result.version = version.version
        if let (_, manifest) = try? ModelArtifact.decode(artifact, source: version.reference) {
            result.reproducibilityNote = Reproducibility.note(for: version, manifest: manifest, registry: registry)
        }
        if writeLock, git?.branch != nil {
            // The registry's audit head (its entry for this version, or a later one) goes into the lock file: an
            // anchor outside the registry that `tandem models verify` compares the chain with.
            let (file, commit) = try LockFileWriter.write(
                version: version, environment: environment.name, repository: environment.repositoryRoot, actor: actor,
                auditHead: AuditAnchor.head(of: try registry.auditLog()))
            result.lockFile = file
            result.lockCommit = commit
        }
        return result
    }
}

/// Writes a model's lock file on the current branch and commits it.
public enum LockFileWriter {
    /// Writes `models/NAME.lock.json` for `version` and commits it; returns the file (relative) and the commit.
    public static func write(
        version: ModelVersion, environment: String, repository: String, actor: String, auditHead: AuditAnchor? = nil
    ) throws -> (String, String) {
        let relative = ModelLock.path(model: version.name)
        let path = (repository as NSString).appendingPathComponent(relative)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try ModelLock(environment: environment, version: version, auditHead: auditHead).text().write(
            toFile: path, atomically: true, encoding: .utf8)
        let commit = try Git(folder: repository).commitFile(
            relative,
            message:
                "Register \(version.reference) in \(environment)\n\nArtifact sha256:\(version.artifactDigest)\nRun \(version.runID ?? "-")",
            author: actor)
        return (relative, commit)
    }
}
