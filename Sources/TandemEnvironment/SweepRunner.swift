import Foundation
import TandemCompute
import TandemCore
import TandemFeatures
import TandemLakehouse
public import TandemPipeline
public import TandemProfiles
import TandemRegistry
import TandemStorage

/// The trials of a sweep, written for the array job: task i trains with `overrides[i]` as a child run of
/// `parentRun` and writes its result document to `resultPath(plan, i)`.
public struct SweepPlan: Codable, Sendable {
    public var parentRun: String
    public var overrides: [[String]]

    /// Where task `index` of the plan at `plan` writes its result document.
    public static func resultPath(_ plan: String, _ index: Int) -> String { plan + ".result-\(index).json" }

    /// Writes task `index`'s result document where the sweep reads it (atomically).
    public static func write(_ result: TrainingSession.Result, plan: String, index: Int) throws {
        try JSONEncoder().encode(result).write(to: URL(fileURLWithPath: resultPath(plan, index)), options: .atomic)
    }

    /// The trial an array task runs: the plan at `path`, entry `TANDEM_ARRAY_INDEX`.
    ///
    /// - Throws: `Failure` (exit 2) outside an array task or for an index the plan does not have.
    public static func trial(plan path: String) throws -> (plan: SweepPlan, index: Int) {
        let plan = try JSONDecoder().decode(SweepPlan.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        guard let index = ProcessInfo.processInfo.environment["TANDEM_ARRAY_INDEX"].flatMap(Int.init),
            plan.overrides.indices.contains(index)
        else {
            throw Failure(
                .invalidInput, "--sweep-plan runs as an array task: TANDEM_ARRAY_INDEX must name one of the plan's trials")
        }
        return (plan, index)
    }
}

/// Runs a sweep: one child run per trial, all trials one array job on the environment's compute backend
/// (`local://` child processes or a Slurm job array), at most `parallel` at once, then picks the best by the
/// sweep's metric.
public struct SweepRunner {
    public let context: StageContext
    public let configArgument: String
    public let baseOverrides: [String]
    public let spec: SweepSpec
    /// Hears what a person watching would want to know (nil: quiet, as with --json).
    public var say: ((String) -> Void)?

    public init(
        context: StageContext, configArgument: String, baseOverrides: [String], spec: SweepSpec,
        say: ((String) -> Void)?
    ) {
        self.context = context
        self.configArgument = configArgument
        self.baseOverrides = baseOverrides
        self.spec = spec
        self.say = say
    }

    /// One trial's outcome.
    public struct Trial: Encodable, Sendable {
        public var number: Int
        public var overrides: [String]
        public var runID: String?
        public var metric: Double?
        public var metrics: [String: Double]
        public var status: String
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case number, overrides, metric, metrics, status, error
            case runID = "run_id"
        }
    }

    /// What `tandem train --sweep … --json` prints.
    public struct Report: Encodable, Sendable {
        public var sweepRun: String
        public var metric: String
        public var trials: [Trial]
        /// The best trial's number, by the sweep's validation metric.
        public var best: Int?

        enum CodingKeys: String, CodingKey {
            case metric, trials, best
            case sweepRun = "sweep_run"
        }
    }

    /// Runs every trial and records the sweep run; the trials that ended, and the best.
    public func run() throws -> Report {
        let trials = spec.trialOverrides()
        guard !trials.isEmpty else { throw Failure(.invalidInput, "the sweep has no trials; list values under `parameters`") }
        // Check every trial's configuration before starting any.
        for t in trials {
            _ = try TrainingConfig.load(
                path: context.repositoryPath(configArgument), displayName: configArgument, overrides: baseOverrides + t)
        }
        let config = try TrainingConfig.load(
            path: context.repositoryPath(configArgument), displayName: configArgument, overrides: baseOverrides)
        // The trials' data must be there before any trial starts.
        _ = try context.openFeatureStoreForReading().featureTable(
            FeatureTableReference(featureSet: config.featureSet, version: config.featureTableVersion))
        let registry = try context.openRegistry(writer: .stage("train"))
        var sweepRun = RunRecord(
            id: UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), experiment: config.model, name: "sweep",
            startedAt: Timestamp.nowMillis(),
            parameters: [
                "method": spec.method.rawValue, "trials": String(trials.count), "parallel": String(spec.parallel),
                "metric": spec.metric,
            ],
            tags: ["tandem.environment": context.profile.name, "tandem.actor": Actor.current()].merging(
                RunRecovery.ownerTags()
            ) { a, _ in a })
        let sweepID = try registry.createRun(sweepRun)
        sweepRun.id = sweepID

        if let say {
            say("sweep \(sweepID): \(trials.count) trials, \(spec.parallel) at a time, best by validation \(spec.metric)")
        }
        // The trials run as one array job on the environment's compute backend: task i trains trial i of the
        // plan (TANDEM_ARRAY_INDEX) and writes its result document beside the plan.
        let runner = try context.openCompute()
        let plan = SweepPlan(
            parentRun: sweepID, overrides: trials.map { baseOverrides + $0 + ["training.threads=1"] })
        try FileManager.default.createDirectory(atPath: context.jobLogs, withIntermediateDirectories: true)
        let planPath = (context.jobLogs as NSString).appendingPathComponent("sweep-\(sweepID).json")
        try JSONEncoder().encode(plan).write(to: URL(fileURLWithPath: planPath), options: .atomic)
        let job = ComputeJob(
            name: "sweep-\(sweepID.prefix(8))", executable: StageContext.stageExecutable("train"),
            arguments: [
                "--env", context.profile.name, "--project", context.repositoryRoot, "--config", configArgument, "--batch",
                "--sweep-plan", planPath,
            ],
            workingDirectory: context.repositoryRoot, logDirectory: context.jobLogs, arrayCount: trials.count,
            maxParallel: spec.parallel, cpus: 1)
        let stop = StopSignal()
        let jobID = try runner.submit(job)
        if let say {
            say("  job \(jobID) on \(runner.backend.kind):// (\(trials.count) array tasks), logs in \(context.jobLogs)")
        }
        var results = [Trial?](repeating: nil, count: trials.count)
        func collect(_ index: Int, _ ended: JobResult?) {
            guard results[index] == nil else { return }
            var trial = Trial(number: index + 1, overrides: trials[index], metrics: [:], status: "FAILED")
            if let data = FileManager.default.contents(atPath: SweepPlan.resultPath(planPath, index)),
                let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            {
                trial.runID = doc["run_id"] as? String
                // Trials are chosen by their validation metrics; the test queries stay unseen until evaluation.
                trial.metrics = (doc["validation_metrics"] as? [String: Double]) ?? [:]
                trial.metric = trial.metrics[spec.metric]
                trial.status = "FINISHED"
            } else if let ended {
                trial.error = ended.summary()
            } else {
                return
            }
            results[index] = trial
            if let say {
                say(
                    "  trial \(index + 1)/\(trials.count) \(trial.status.lowercased()): "
                        + trials[index].joined(separator: " ")
                        + (trial.metric.map { "  → \(spec.metric) " + String(format: "%.4f", $0) } ?? "")
                        + (trial.error.map { "  (\($0))" } ?? ""))
            }
        }
        let ended = try runner.wait(jobID, shouldCancel: { stop.isStopped }) {
            // Each poll: report the trials whose result has appeared.
            for i in 0..<trials.count { collect(i, nil) }
        }
        for r in ended { collect(r.task ?? 0, r) }
        try? FileManager.default.removeItem(atPath: planPath)
        for i in 0..<trials.count { try? FileManager.default.removeItem(atPath: SweepPlan.resultPath(planPath, i)) }
        let done = results.compactMap { $0 }
        let best = done.filter { $0.metric != nil }.max { ($0.metric ?? 0, -$0.number) < ($1.metric ?? 0, -$1.number) }
        sweepRun.status = done.contains { $0.status == "FINISHED" } ? "FINISHED" : "FAILED"
        sweepRun.endedAt = Timestamp.nowMillis()
        if let best {
            sweepRun.tags["tandem.best_trial"] = String(best.number)
            sweepRun.tags["tandem.best_run"] = best.runID ?? ""
            sweepRun.parameters["best_overrides"] = best.overrides.joined(separator: " ")
            try registry.logMetrics(
                runID: sweepID,
                [
                    MetricPoint(
                        key: "best_\(spec.metric)", value: best.metric ?? 0, step: best.number, timestamp: sweepRun.endedAt ?? "")
                ])
        }
        try registry.updateRun(sweepRun)
        return Report(sweepRun: sweepID, metric: spec.metric, trials: done, best: best?.number)
    }
}
