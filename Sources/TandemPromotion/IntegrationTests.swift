import Foundation
import TandemCore
import TandemFeatures
import TandemGit
public import TandemLakehouse
public import TandemLearning
import TandemPipeline
public import TandemProfiles
public import TandemRegistry
import TandemStorage

/// The integration tests a promotion runs in the source environment (docs/architecture.md, "Testing").
public struct IntegrationTests {
    /// The candidate: its model and the artifact the registry holds for it.
    public let candidate: RankerModel
    public let candidateVersion: ModelVersion
    /// The branch's training configuration.
    public let config: TrainingConfig
    /// The feature views the branch declares (its training pipeline's ETL builds the config's view from them).
    public let views: FeatureViewCatalogue
    /// Raw input the training pipeline test runs the ETL on.
    public let sampleInput: String
    /// The source environment's feature store (the inference test reads its silver videos and gold).
    public let store: FeatureStore
    public let latencyBudgetMs: Double

    public init(
        candidate: RankerModel, candidateVersion: ModelVersion, config: TrainingConfig, views: FeatureViewCatalogue,
        sampleInput: String, store: FeatureStore, latencyBudgetMs: Double
    ) {
        self.candidate = candidate
        self.candidateVersion = candidateVersion
        self.config = config
        self.views = views
        self.sampleInput = sampleInput
        self.store = store
        self.latencyBudgetMs = latencyBudgetMs
    }

    /// The integration tests of a promotion's pair: the branch's training configuration (read from its commit)
    /// through the training pipeline, the candidate version through the inference pipeline.
    public static func run(
        for p: Promotion, config given: TrainingConfig? = nil, registry: any ModelRegistry, store: FeatureStore,
        repositoryRoot: String, sampleInput: String,
        latencyBudgetMs: Double
    ) throws -> [TestResult] {
        let (version, candidate) = try ModelLoading.load(.version(p.model, p.version), from: registry)
        let config = try given ?? modelConfig(for: p, repositoryRoot: repositoryRoot)
        let views = try FeatureViewCatalogue.committed(
            at: p.commit, label: "\(p.branch)@\(p.commit.prefix(12)):", in: Git(folder: repositoryRoot))
        return IntegrationTests(
            candidate: candidate, candidateVersion: version, config: config, views: views, sampleInput: sampleInput,
            store: store, latencyBudgetMs: latencyBudgetMs
        ).run()
    }

    /// The promoted model's own config as the branch's commit holds it (`models/*.yaml` whose `model:` is the
    /// promotion's model), every file sized before it is read.
    ///
    /// - Throws: `Failure` (exit 2) naming the models the commit configures when none is the promoted one.
    static func modelConfig(for p: Promotion, repositoryRoot: String) throws -> TrainingConfig {
        let catalogue = try ModelCatalogue.committed(
            at: p.commit, label: "\(p.branch)@\(p.commit.prefix(12)):", in: Git(folder: repositoryRoot))
        guard let config = catalogue[p.model] else {
            throw Failure(
                .invalidInput,
                "\(p.branch) @ \(p.commit.prefix(12)) has no config of \(p.model) under models/ (a YAML file with "
                    + "`model: \(p.model)`; it configures \(catalogue.names.isEmpty ? "no model" : catalogue.names.joined(separator: ", "))), "
                    + "so its training pipeline cannot be tested; commit the model's config on the branch")
        }
        return config
    }

    public func run() -> [TestResult] {
        [
            timed("training pipeline", trainingPipeline), timed("inference pipeline", inferencePipeline),
            timed("feature parity", featureParity),
        ]
    }

    /// The promotion's feature gate (docs/features.md, "The feature contract"): the candidate's artifact carries
    /// the view versions and statistics it was trained with, and they are the ones this environment's feature
    /// store recorded for the tables it names. Prod computes the candidate's features from its artifact, so it then
    /// computes exactly what the candidate was trained and tested on; any difference fails the promotion, naming
    /// the views that differ.
    func featureParity() throws -> String {
        let ref = candidateVersion.reference
        guard let contract = candidate.featureContract else {
            throw Failure(
                .invalidInput,
                "\(ref) carries no feature contract (an artifact written before feature views were frozen into "
                    + "artifacts, trained on a table that recorded no view version, or made outside Tandem): prod could "
                    + "not compute its features as they were trained; rebuild its table with `tandem etl` and retrain it "
                    + "with `tandem train`")
        }
        var differing: [String] = []
        let set = candidate.signature.featureSet
        for view in [set] + candidate.signature.joinedViews
        where contract.view(view) == nil {
            differing.append("\(view): a feature view its signature reads is not in its feature contract")
        }
        for entry in contract.views {
            if entry.view == set, let trained = candidateVersion.featureTable, trained != entry.table {
                differing.append("\(entry.view): the artifact froze \(entry.table), but the version was trained on \(trained)")
                continue
            }
            if entry.view != set, !(candidate.signature.joined ?? []).contains(entry.table) {
                differing.append(
                    "\(entry.view): the artifact froze \(entry.table), which its signature does not join ("
                        + ((candidate.signature.joined ?? []).isEmpty
                            ? "none" : (candidate.signature.joined ?? []).joined(separator: ", "))
                        + ")")
                continue
            }
            guard let reference = FeatureTableReference(entry.table), reference.featureSet == entry.view,
                let table = try Failure.unlessNotFound({ try store.featureTable(reference) })
            else {
                differing.append("\(entry.view): this feature store holds no table \(entry.table)")
                continue
            }
            guard let recorded = try store.featureContract(of: table)?.view(entry.view) else {
                differing.append("\(entry.view): \(entry.table) records no view version")
                continue
            }
            if recorded.digest != entry.digest {
                differing.append(
                    "\(entry.view): the artifact's definition (sha256:\(entry.digest.prefix(12))…) is not "
                        + "\(recorded.reference) (sha256:\(recorded.digest.prefix(12))…), which \(entry.table) was built with")
            }
            if recorded.statisticsDigest != entry.statisticsDigest {
                differing.append(
                    "\(entry.view): the artifact's corpus statistics (\(Self.short(entry.statisticsDigest))) are not those "
                        + "frozen with \(entry.table) (\(Self.short(recorded.statisticsDigest)))")
            }
        }
        guard differing.isEmpty else {
            throw Failure(
                .invalidInput, "prod would not compute the features \(ref) was trained on: " + differing.joined(separator: "; "))
        }
        for entry in contract.views { _ = try InferencePipeline.contractView(contract, view: entry.view) }
        return contract.views.map {
            "\($0.reference) (sha256:\($0.digest.prefix(12))…, statistics \(Self.short($0.statisticsDigest)))"
        }
        .joined(separator: ", ") + " travel in the artifact: prod computes the features it was trained on"
    }

    static func short(_ digest: String?) -> String { digest.map { "sha256:\($0.prefix(12))…" } ?? "none" }

    func timed(_ name: String, _ body: () throws -> String) -> TestResult {
        let start = ContinuousClock.now
        let result: (Bool, String)
        do { result = (true, try body()) } catch { result = (false, "\(error)") }
        let d = ContinuousClock.now - start
        return TestResult(
            name: name, passed: result.0, detail: result.1,
            seconds: d.seconds)
    }

    /// Exactly the branch's training settings (the one mapping `tandem train` uses), for one epoch: the test
    /// proves the pipeline, not the model.
    static func trainingSettings(_ config: TrainingConfig) -> TrainingSettings {
        var settings = TrainingSettings(config)
        settings.maxEpochs = 1
        return settings
    }

    /// ETL on the sample input into a scratch feature store, a short training with the branch's configuration:
    /// the model must be valid, loadable, and have the registered version's signature.
    func trainingPipeline() throws -> String {
        let scratch = NSTemporaryDirectory() + "tandem-itest-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try RootGuard.claim(path: scratch, environment: "integration-test", role: .features, writer: .stage("promote"))
        let etlStore = try FeatureStore(root: scratch)
        let view = try views.view(config.featureSet)
        let report = try ETLPipeline(
            store: etlStore, options: .init(environment: "integration-test", inputFolder: sampleInput, view: view)
        ).run()
        // The joined views on the same input: the same silver version, so the same rows.
        for joined in config.joinedViews {
            _ = try ETLPipeline(
                store: etlStore,
                options: .init(environment: "integration-test", inputFolder: sampleInput, view: try views.view(joined.name))
            ).run()
        }
        let inputs = try TrainingInputs(
            store: etlStore, featureSet: view.name, tableVersion: nil, features: config.features,
            joining: config.joinedViews.map { ($0.name, nil) })
        let split = inputs.split
        guard split.train.rows > 0, split.validation.rows > 0, split.test.rows > 0 else {
            throw Failure(.invalidInput, "the sample input gives no training, validation or test rows")
        }
        let settings = Self.trainingSettings(config)
        let outcome = Trainer(settings: settings, train: split.train, validation: split.validation, signature: inputs.signature)
            .run()
        let bytes = try ModelArtifact.encode(outcome.model, metrics: outcome.history.last?.metrics ?? [:], settings: settings)
        let (loaded, _) = try ModelArtifact.decode(bytes, source: "integration-test model")
        let scores = Scorer(model: loaded).score(split.test.features, rows: split.test.rows)
        guard scores.allSatisfy({ $0.isFinite }) else {
            throw Failure(.invalidInput, "the trained model gives non-finite scores")
        }
        let registered = try JSONDecoder().decode(ModelSignature.self, from: Data(candidateVersion.signature.utf8))
        guard registered.features == loaded.signature.features, registered.featureSet == loaded.signature.featureSet else {
            throw Failure(
                .invalidInput,
                "the branch's training gives a model whose signature (\(loaded.signature.features.count) features of \(loaded.signature.featureSet)) "
                    + "differs from the registered version's (\(registered.features.count) of \(registered.featureSet))")
        }
        return "ETL on \(report.inputs["judgments"]?.lines ?? 0) sample lines → \(report.rows.goldRows) gold rows; 1 epoch; "
            + "model loads, \(loaded.signature.features.count) features match the registered signature"
    }

    /// The candidate ranks requests built from held-out gold queries through the one feature code path:
    /// outputs finite, ordered, equal to the offline scores of the same pairs, within the latency budget.
    func inferencePipeline() throws -> String {
        let inputs = try TrainingInputs(store: store, model: candidate)
        let gold = inputs.gold
        let split = inputs.split
        let offline = Scorer(model: candidate).score(split.test.features, rows: split.test.rows)
        let pipeline = try InferencePipeline.serving(candidate, store: store)
        // Where each held-out row sits in the gold table (to know its URL and judgment time).
        var goldRow: [String: [Int]] = [:]
        for r in 0..<gold.rowCount where FNV1a.isHeldOut(normalizedQuery: gold.queries[r]) {
            goldRow[gold.queries[r], default: []].append(r)
        }
        var latencies: [Double] = []
        var compared = 0
        let groups = split.test.groups
        for g in 0..<min(groups.count, 100) {
            let rows = goldRow[groups.names[g]] ?? []
            guard let first = rows.first, let at = DataTimestamp(gold.judgedAt[first]) else { continue }
            let request = InferencePipeline.Request(query: groups.names[g], candidates: rows.map { gold.videoURLs[$0] }, at: at)
            let start = ContinuousClock.now
            let response = try pipeline.rank(request)
            let d = ContinuousClock.now - start
            latencies.append(d.seconds * 1000)
            guard response.ranked.allSatisfy({ $0.score.isFinite }) else {
                throw Failure(.invalidInput, "non-finite score for '\(request.query)'")
            }
            guard zip(response.ranked, response.ranked.dropFirst()).allSatisfy({ $0.score >= $1.score }) else {
                throw Failure(.invalidInput, "the ranking of '\(request.query)' is not ordered by score")
            }
            guard response.unknown.isEmpty else {
                throw Failure(.invalidInput, "known videos reported unknown for '\(request.query)'")
            }
            let base = groups.range(g).lowerBound
            for (k, r) in rows.enumerated() where gold.judgedAt[r] == gold.judgedAt[first] {
                guard let served = response.ranked.first(where: { $0.videoURL == gold.videoURLs[r] }) else { continue }
                guard served.score.bitPattern == offline[base + k].bitPattern else {
                    throw Failure(
                        .invalidInput,
                        "served score \(served.score) ≠ offline score \(offline[base + k]) for '\(request.query)' \(gold.videoURLs[r])"
                    )
                }
                compared += 1
            }
        }
        guard !latencies.isEmpty else { throw Failure(.invalidInput, "no held-out queries to build requests from") }
        latencies.sort()
        let p99 = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]
        guard p99 <= latencyBudgetMs else {
            throw Failure(
                .invalidInput, String(format: "p99 latency %.2f ms is over the budget of %.2f ms", p99, latencyBudgetMs))
        }
        return "\(latencies.count) requests, \(compared) pairs equal to their offline scores bit for bit; "
            + String(
                format: "latency p50 %.2f ms, p99 %.2f ms (budget %.0f ms)", latencies[latencies.count / 2], p99, latencyBudgetMs)
    }
}
