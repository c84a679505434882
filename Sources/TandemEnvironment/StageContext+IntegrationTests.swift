import Foundation
import TandemCompute
import TandemCore
import TandemProfiles
public import TandemPromotion
import TandemStorage

/// The promotion's integration tests as a job on the source environment's compute backend: the engine writes
/// the promotion to a file, the job (`tandem-promote integration-tests`) runs the tests where the backend puts it
/// and writes their results beside it; a job that does not give results is an infrastructure failure (exit 3,
/// the promotion stays in testing and `advance` retries).
extension StageContext {
    /// - Parameter latencyBudgetMs: the target's p99 budget, from the profile that judges the promotion (the
    ///   production side's), handed to the job so that it never reads the checkout's.
    ///   `note` tells the user where the job runs.
    public func integrationTestRunner(
        latencyBudgetMs: Double, note: @escaping @Sendable (String) -> Void
    ) throws -> @Sendable (Promotion) throws -> [TestResult] {
        let context = self
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
            note("integration tests: job \(id) on \(runner.backend.kind)://")
            let result = try runner.wait(id, shouldCancel: { stop.isStopped })[0]
            guard let data = FileManager.default.contents(atPath: output) else {
                throw Failure(.failed, "the integration-test job \(id) ended \(result.summary())")
            }
            return try JSONDecoder().decode([TestResult].self, from: data)
        }
    }
}
