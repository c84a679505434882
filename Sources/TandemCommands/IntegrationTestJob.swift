import ArgumentParser
import Foundation
import TandemCompute
import TandemCore
import TandemEnvironment
import TandemProfiles
import TandemPromotion

/// The promotion's integration tests as a job on the source environment's compute backend: the engine writes
/// the promotion to a file, the job (`tandem-promote integration-tests`) runs the tests where the backend puts it
/// and writes their results beside it; a job that does not give results is an infrastructure failure (exit 3,
/// the promotion stays in testing and `advance` retries).
enum IntegrationTestJob {
    /// - Parameter latencyBudgetMs: the target's p99 budget, from the profile that judges the promotion (the
    ///   production side's), handed to the job so that it never reads the checkout's.
    static func runner(_ context: StageContext, latencyBudgetMs: Double) throws -> @Sendable (Promotion) throws -> [TestResult] {
        let runner = try context.openCompute()
        let features = try context.folder(of: .features)
        let registry: String =
            if case .file = context.profile.roots.registry { "file://" + (try context.folder(of: .registry)) } else {
                context.profile.roots.registry.description
            }
        return { p in
            try FileManager.default.createDirectory(atPath: context.jobLogs, withIntermediateDirectories: true)
            let stem = (context.jobLogs as NSString).appendingPathComponent("itest-\(p.id)-\(UUID().uuidString.prefix(6))")
            let input = stem + ".json"
            let output = stem + ".result.json"
            defer { for f in [input, output] { try? FileManager.default.removeItem(atPath: f) } }
            try JSONEncoder().encode(p).write(to: URL(fileURLWithPath: input), options: .atomic)
            let job = ComputeJob(
                name: "itest-\(p.id.prefix(10))", executable: StageContext.stageExecutable("promote"),
                arguments: [
                    "integration-tests", "--env", context.profile.name, "--project", context.repositoryRoot, "--promotion-file",
                    input, "--result", output, "--features-root", "file://" + features, "--registry-root", registry,
                    "--latency-budget-ms", String(latencyBudgetMs),
                ],
                workingDirectory: context.repositoryRoot, logDirectory: context.jobLogs, cpus: 1)
            let stop = StopSignal()
            let id = try runner.submit(job)
            Terminal.note("integration tests: job \(id) on \(runner.backend.kind)://")
            let result = try runner.wait(id, shouldCancel: { stop.isStopped })[0]
            guard let data = FileManager.default.contents(atPath: output) else {
                throw UsageError("the integration-test job \(id) ended \(result.summary())", exitStatus: .infrastructure)
            }
            return try JSONDecoder().decode([TestResult].self, from: data)
        }
    }

    /// `tandem-promote integration-tests`: the job's side (hidden; the engine starts it).
    struct Command: StageCommand {
        static let configuration = CommandConfiguration(
            commandName: "integration-tests", abstract: "Run a promotion's integration tests (a job the engine submits).",
            shouldDisplay: false)
        @OptionGroup var common: CommonOptions
        @Option(help: "The promotion, as the engine wrote it.") var promotionFile: String
        @Option(help: "Where to write the results.") var result: String
        @Option(help: "The source environment's features root (when the engine moved it, as `tandem local test` does).")
        var featuresRoot: String?
        @Option(help: "The source environment's registry root (likewise).") var registryRoot: String?
        @Option(help: "The inference test's p99 budget in milliseconds (the engine passes the target's).")
        var latencyBudgetMs: Double?

        func run() async throws {
            let base = try StageContext.load(common)
            var profile = base.profile
            if let featuresRoot { profile.roots.features = try RootURL.parse(featuresRoot) }
            if let registryRoot { profile.roots.registry = try RootURL.parse(registryRoot) }
            let context = StageContext(repositoryRoot: base.repositoryRoot, profiles: base.profiles, profile: profile)
            let p = try JSONDecoder().decode(Promotion.self, from: Data(contentsOf: URL(fileURLWithPath: promotionFile)))
            let target = try context.profiles.profile(named: p.target)
            let tests = try IntegrationTests.run(
                for: p, registry: try context.openRegistry(writer: nil), store: try context.openFeatureStoreForReading(),
                repositoryRoot: context.repositoryRoot, sampleInput: context.resolve(profile.data.sampleInput),
                latencyBudgetMs: latencyBudgetMs ?? target.policy.latencyBudgetMs)
            for t in tests { print("\(t.passed ? "passed" : "FAILED"): \(t.name) — \(t.detail)") }
            try JSONEncoder().encode(tests).write(to: URL(fileURLWithPath: result), options: .atomic)
        }
    }
}
