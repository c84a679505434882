import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemFeatures
import TandemLakehouse
import TandemPipeline
import TandemProfiles
import TandemPromotion
import TandemRegistry
import TandemStorage
import TandemWebhooks

/// `tandem local test`: the whole test environment on this machine, with embedded defaults.
public struct LocalCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "local",
        _superCommandName: "tandem",
        abstract: "Run an environment's pipeline on this machine, with nothing to install beyond the build.",
        discussion: exitCodesHelp,
        version: TandemVersion.current,
        subcommands: [Test.self])

    public init() {}

    struct Test: StageCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Run the test environment end to end on this machine: ETL, training, registration, integration tests, champion/challenger.",
            discussion: """
                Uses the test and prod profiles with their roots moved under one local folder (.tandem/local by \
                default), never inside a real environment's roots, no reporters, no notifiers and no git remote: \
                the fixtures (the test profile's data.sample_input) through the ETL, a training with the \
                repository's configuration, its registration, the integration tests of the training and inference \
                pipelines, and the champion/challenger evaluation against the local prod (on a first run, the \
                policy's first-release rule). Ends with the decision report and where everything was written. \
                Nothing is committed to git and nothing is promoted.

                Example:
                  tandem local test
                  tandem local test --clean --json

                Exits 0 when the challenger passes, 1 when it does not (or a test fails).

                \(exitCodesHelp)
                """)

        @OptionGroup var common: CommonOptions
        @Flag(help: "Start afresh: remove the local folder first.") var clean = false
        @Option(help: ArgumentHelp("The local folder (relative to the repository root).", valueName: "dir")) var folder: String =
            ".tandem/local"
        @Option(help: ArgumentHelp("Training configuration.", valueName: "file")) var config: String = "models/relevance.yaml"
        @Option(
            name: .customLong("set"), help: ArgumentHelp("Override a configuration key (repeatable).", valueName: "key=value"))
        var overrides: [String] = []
        @Option(
            help: ArgumentHelp(
                "Where the jobs run (the integration tests): local:// (default) or a slurm:// root, as in slurm://ci?conf=/path/slurm.conf.",
                valueName: "url"))
        var compute: String = "local://"

        struct StageLine: Encodable {
            var stage: String
            var seconds: Double
            var result: String
            /// passed, failed or skipped.
            var status: String
        }

        struct Summary: Encodable {
            var stages: [StageLine]
            var promotion: Promotion
            var decision: String
            var folder: String
            var featureTable: String
            var model: String
        }

        func run() async throws {
            let started = ContinuousClock.now
            let set = try StageContext.loadProfiles(common)
            let local = ProfileSet.absolutePath(folder, repositoryRoot: set.repositoryRoot)
            for p in set.profiles.values {
                for root in [p.roots.features, p.roots.registry] {
                    if let path = set.absolutePath(of: root),
                        local.hasPrefix(path + "/") || path.hasPrefix(local + "/") || path == local
                    {
                        throw UsageError("\(folder) overlaps \(p.name)'s root \(path); choose another --folder")
                    }
                }
            }
            let computeRoot: RootURL
            do { computeRoot = try RootURL.parse(compute) } catch { throw UsageError("--compute: \(error.description)") }
            guard computeRoot.scheme == "local" || computeRoot.scheme == "slurm" else {
                throw UsageError("--compute must be a local:// or slurm:// root, not \(compute)")
            }
            if clean { try? FileManager.default.removeItem(atPath: local) }
            var test = try set.profile(named: "test")
            guard let targetName = test.promotesTo else {
                throw UsageError("\(test.file) has no promotes_to; local test needs the target environment")
            }
            var prod = try set.profile(named: targetName)
            func localize(_ p: inout Profile) {
                p.roots = Roots(
                    features: .file(path: "\(local)/\(p.name)/features"), registry: .file(path: "\(local)/\(p.name)/registry"),
                    compute: computeRoot)
                p.reporter = ReporterSettings(kind: .none)
                p.notifiers = []
                p.git.remote = nil
                p.protected = false
            }
            localize(&test)
            localize(&prod)
            let profiles = try ProfileSet(repositoryRoot: set.repositoryRoot, profiles: [test.name: test, prod.name: prod])
            let context = StageContext(
                repositoryRoot: set.repositoryRoot, profiles: profiles, profile: test, readsProductionSide: false)
            var stages: [StageLine] = []
            var clock = ContinuousClock.now
            /// Records a stage; `ok` false marks it failed (✗), nil not run (–).
            func lap(_ stage: String, _ result: String, ok: Bool? = true) {
                let d = ContinuousClock.now - clock
                clock = ContinuousClock.now
                let line = StageLine(
                    stage: stage, seconds: d.seconds, result: result, status: ok.map { $0 ? "passed" : "failed" } ?? "skipped")
                stages.append(line)
                if !common.json {
                    Terminal.note(
                        (ok.map { $0 ? "✓ " : "✗ " } ?? "– ") + stage.padding(toLength: 24, withPad: " ", startingAt: 0)
                            + String(format: "%6.1f s  ", line.seconds) + result)
                }

            }
            if !common.json { Terminal.note("tandem local test: roots under \(local)") }

            // 1. ETL on the fixtures.
            let store = try context.openFeatureStore(stage: "etl")
            let bar = ProgressBar()
            var pipeline = ETLPipeline(
                store: store,
                options: .init(
                    environment: test.name, inputFolder: context.resolve(test.data.sampleInput),
                    featureSet: FeatureSet.all[test.data.featureSet] ?? .relevanceV1))
            pipeline.progress = { stage, fraction in bar.update(stage, fraction) }
            let etl = try pipeline.run()
            bar.finish()
            lap("ETL", "\(etl.featureTable): \(etl.rows.goldRows) gold rows, \(etl.rows.quarantined) lines quarantined")

            // 2. Training and registration (no lock file: a local run changes nothing in git).
            let trainingConfig = try TrainingConfig.load(
                path: context.repositoryPath(config), displayName: config, overrides: overrides)
            var session = TrainingSession(environment: context.trainingEnvironment(), config: trainingConfig)
            session.writeLock = false
            let trained = try session.run()
            lap(
                "training + registration",
                "\(trained.model)@\(trained.version ?? 0), " + String(format: "NDCG@10 %.4f", trained.metrics["ndcg@10"] ?? 0))

            // 3.–4. Integration tests and champion/challenger, through the promotion engine (stopping before approvals).
            let registryRoot = try context.claim(.registry, stage: "promote")
            let prodContext = StageContext(
                repositoryRoot: set.repositoryRoot, profiles: profiles, profile: prod, readsProductionSide: false)
            let engine = PromotionEngine(
                context: PromotionContext(
                    repositoryRoot: set.repositoryRoot, source: test, target: prod, sourceStore: store,
                    sourceRegistry: try context.openRegistry(writer: .stage("promote")),
                    openTargetRegistry: { try prodContext.openRegistry(writer: .promotionEngine) },
                    resolve: { context.resolve($0) },
                    store: try PromotionStore(root: registryRoot), outbox: nil, actor: Actor.current(),
                    runIntegrationTests: try IntegrationTestJob.runner(context, latencyBudgetMs: prod.policy.latencyBudgetMs)))
            let promotion = try engine.start(branch: "HEAD", model: .version(trained.model, trained.version ?? 0))
            let evaluated = try engine.advance(promotion.id)
            let tests = evaluated.tests.map { "\($0.name) \($0.passed ? "passed" : "FAILED")" }.joined(separator: ", ")
            lap(
                "integration tests", tests.isEmpty ? "not run" : tests,
                ok: evaluated.tests.isEmpty ? nil : evaluated.tests.allSatisfy(\.passed))
            let decision = evaluated.decision ?? (evaluated.state == .failed ? "not run: tests failed" : evaluated.state.rawValue)
            lap("champion/challenger", decision, ok: evaluated.decision.map { $0 == "pass" })
            let total = ContinuousClock.now - started
            let seconds = total.seconds
            let summary = Summary(
                stages: stages, promotion: evaluated, decision: decision, folder: local, featureTable: etl.featureTable,
                model: "\(trained.model)@\(trained.version ?? 0)")
            if common.json {
                try Terminal.printJSON(summary)
            } else {
                print("\n  STAGE                    SECONDS  RESULT")
                for s in stages {
                    print(
                        (s.status == "passed" ? "✓ " : s.status == "failed" ? "✗ " : "– ")
                            + s.stage.padding(toLength: 25, withPad: " ", startingAt: 0) + String(format: "%7.1f", s.seconds)
                            + "  "
                            + s.result)
                }
                print(String(format: "  total                    %7.1f", seconds))
                if let report = evaluated.report { print("\n" + report) }
                for t in evaluated.tests where !t.passed { print("\nFAILED \(t.name): \(t.detail)") }
                print("\nwritten under \(local):")
                print("  test features  \(local)/test/features   (bronze, silver, gold \(etl.featureTable))")
                print(
                    "  test registry  \(local)/test/registry   (run \(trained.runID.prefix(12)), \(trained.model)@\(trained.version ?? 0), "
                        + "promotion \(evaluated.id), report sha256:\((evaluated.reportDigest ?? "-").prefix(12))…)")
                print("  prod registry  \(local)/prod/registry   (the local champion, if any)")
            }
            let passed = evaluated.state == .awaitingApproval || evaluated.state == .promoted
            if !passed { throw ExitCode(ExitStatus.verdictNo.rawValue) }
        }
    }
}
