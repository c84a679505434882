import Foundation
public import TandemCore
import TandemFeatures
import TandemLakehouse
import TandemPipeline
public import TandemProfiles
public import TandemPromotion
import TandemRegistry

/// `tandem local test`: the test environment end to end on this machine, with the test and prod profiles' roots
/// moved under one local folder (never inside a real environment's roots), no reporters, no notifiers, no git
/// remote, nothing committed and nothing promoted: ETL on the fixtures, a training and its registration, the
/// integration tests and the champion/challenger against the local prod, stopping before approvals.
public struct LocalRehearsal: Sendable {
    /// One stage's line in the summary.
    public struct StageLine: Encodable, Sendable {
        public var stage: String
        public var seconds: Double
        public var result: String
        /// passed, failed or skipped.
        public var status: String
    }

    /// What `tandem local test --json` prints.
    public struct Summary: Encodable, Sendable {
        public var stages: [StageLine]
        public var promotion: Promotion
        public var decision: String
        public var folder: String
        public var featureTable: String
        public var model: String
        /// The training's run (not printed in JSON, which names the promotion and the model).
        public var runID: String
        public var seconds: Double

        enum CodingKeys: String, CodingKey { case stages, promotion, decision, folder, featureTable, model }
    }

    /// The local folder (absolute).
    public let folder: String
    /// The test environment with its roots moved under `folder`.
    public let test: StageContext
    /// Its target (prod), likewise.
    public let prod: StageContext

    /// - Parameters:
    ///   - folder: relative to the repository root; refused when it overlaps any environment's root.
    ///   - compute: where the jobs (the integration tests) run: `local://` or a `slurm://` root.
    ///   - clean: start afresh (the folder is removed first).
    public init(profiles set: ProfileSet, folder relative: String, compute: RootURL, clean: Bool) throws {
        let local = ProfileSet.absolutePath(relative, repositoryRoot: set.repositoryRoot)
        for p in set.profiles.values {
            for root in [p.roots.features, p.roots.registry] {
                if let path = set.absolutePath(of: root),
                    local.hasPrefix(path + "/") || path.hasPrefix(local + "/") || path == local
                {
                    throw Failure(.invalidInput, "\(relative) overlaps \(p.name)'s root \(path); choose another --folder")
                }
            }
        }
        guard compute.scheme == "local" || compute.scheme == "slurm" else {
            throw Failure(.invalidInput, "--compute must be a local:// or slurm:// root, not \(compute)")
        }
        if clean { try? FileManager.default.removeItem(atPath: local) }
        var test = try set.profile(named: "test")
        guard let targetName = test.promotesTo else {
            throw Failure(.invalidInput, "\(test.file) has no promotes_to; local test needs the target environment")
        }
        var prod = try set.profile(named: targetName)
        func localize(_ p: inout Profile) {
            p.roots = Roots(
                features: .file(path: "\(local)/\(p.name)/features"), registry: .file(path: "\(local)/\(p.name)/registry"),
                compute: compute)
            p.reporter = ReporterSettings(kind: .none)
            p.notifiers = []
            p.git.remote = nil
            p.protected = false
        }
        localize(&test)
        localize(&prod)
        let profiles = try ProfileSet(repositoryRoot: set.repositoryRoot, profiles: [test.name: test, prod.name: prod])
        folder = local
        self.test = StageContext(
            repositoryRoot: set.repositoryRoot, profiles: profiles, profile: test, readsProductionSide: false)
        self.prod = StageContext(
            repositoryRoot: set.repositoryRoot, profiles: profiles, profile: prod, readsProductionSide: false)
    }

    /// Runs every stage; `stageDone` hears each as it ends, `progress` the ETL's progress, `note` where jobs run.
    public func run(
        config: String, overrides: [String], progress: @escaping @Sendable (String, Double) -> Void,
        stageDone: (StageLine) -> Void, note: @escaping @Sendable (String) -> Void
    ) throws -> Summary {
        let started = ContinuousClock.now
        let context = test
        var stages: [StageLine] = []
        var clock = ContinuousClock.now
        /// Records a stage; `ok` false marks it failed (✗), nil not run (–).
        func lap(_ stage: String, _ result: String, ok: Bool? = true) {
            let d = ContinuousClock.now - clock
            clock = ContinuousClock.now
            let line = StageLine(
                stage: stage, seconds: d.seconds, result: result, status: ok.map { $0 ? "passed" : "failed" } ?? "skipped")
            stages.append(line)
            stageDone(line)
        }

        // 1. ETL on the fixtures: the profile's view, then any other view the model reads (the same silver).
        let trainingConfig = try TrainingConfig.load(
            path: context.repositoryPath(config), displayName: config, overrides: overrides)
        let store = try context.openFeatureStore(stage: "etl")
        var built: [String] = []
        var extra: [String] = []
        var etl: ETLReport?
        for name in [context.profile.data.featureSet, trainingConfig.featureSet] + trainingConfig.joinedViews.map(\.name)
        where !built.contains(name) {
            built.append(name)
            var pipeline = ETLPipeline(
                store: store,
                options: .init(
                    environment: context.profile.name, inputFolder: context.resolve(context.profile.data.sampleInput),
                    view: try context.featureViews().view(name)))
            if etl == nil { pipeline.progress = progress }
            let report = try pipeline.run()
            if etl == nil { etl = report } else { extra.append(report.featureTable) }
        }
        guard let etl else { throw Failure(.failed, "no feature view to build") }
        lap(
            "ETL",
            "\(etl.featureTable): \(etl.rows.goldRows) gold rows, \(etl.rows.quarantined) lines quarantined"
                + extra.map { ", + \($0)" }.joined())

        // 2. Training and registration (no lock file: a local run changes nothing in git).
        var session = TrainingSession(environment: context.trainingEnvironment(), config: trainingConfig)
        session.writeLock = false
        let trained = try session.run()
        let model = "\(trained.model)@\(trained.version ?? 0)"
        lap("training + registration", "\(model), " + String(format: "NDCG@10 %.4f", trained.metrics["ndcg@10"] ?? 0))

        // 3.–4. Integration tests and champion/challenger, through the promotion engine (stopping before approvals).
        let engine = try context.promotionEngine(into: prod, productionSide: nil, notify: false, note: note)
        engine.context.rehearsal = trainingConfig
        let promotion = try engine.start(branch: "HEAD", reference: .version(trained.model, trained.version ?? 0))
        let evaluated = try engine.advance(promotion.id)
        let tests = evaluated.tests.map { "\($0.name) \($0.passed ? "passed" : "FAILED")" }.joined(separator: ", ")
        lap(
            "integration tests", tests.isEmpty ? "not run" : tests,
            ok: evaluated.tests.isEmpty ? nil : evaluated.tests.allSatisfy(\.passed))
        let decision = evaluated.decision ?? (evaluated.state == .failed ? "not run: tests failed" : evaluated.state.rawValue)
        lap("champion/challenger", decision, ok: evaluated.decision.map { $0 == "pass" })
        return Summary(
            stages: stages, promotion: evaluated, decision: decision, folder: folder, featureTable: etl.featureTable,
            model: model, runID: trained.runID, seconds: (ContinuousClock.now - started).seconds)
    }
}
