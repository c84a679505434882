import Foundation
import TandemCore
import TandemLakehouse
import TandemProfiles
import TandemRegistry

/// Runs a sweep: one child run per trial, each a `tandem-train` process with the trial's `--set` overrides,
/// at most `parallel` at once (the local compute backend), then picks the best by the sweep's metric.
struct SweepRunner {
    let context: StageContext
    let common: CommonOptions
    let configArgument: String
    let baseOverrides: [String]
    let spec: SweepSpec

    struct Trial: Encodable {
        var number: Int
        var overrides: [String]
        var runID: String?
        var metric: Double?
        var metrics: [String: Double]
        var status: String
        var error: String?

        enum CodingKeys: String, CodingKey {
            case number, overrides, metric, metrics, status, error
            case runID = "run_id"
        }
    }

    struct Report: Encodable {
        var sweepRun: String
        var metric: String
        var trials: [Trial]
        var best: Int?

        enum CodingKeys: String, CodingKey {
            case metric, trials, best
            case sweepRun = "sweep_run"
        }
    }

    func run() async throws {
        let trials = spec.trialOverrides()
        guard !trials.isEmpty else { throw UsageError("the sweep has no trials; list values under `parameters`") }
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
            tags: ["tandem.environment": context.profile.name, "tandem.actor": Actor.current()])
        let sweepID = try registry.createRun(sweepRun)
        sweepRun.id = sweepID

        if !common.json {
            print("sweep \(sweepID): \(trials.count) trials, \(spec.parallel) at a time, best by \(spec.metric)")
        }
        let executable =
            (CommandLine.arguments[0] as NSString).lastPathComponent == "tandem-train"
            ? CommandLine.arguments[0] : ((UmbrellaCommand.ownFolder() as NSString).appendingPathComponent("tandem-train"))
        var results = [Trial?](repeating: nil, count: trials.count)
        var next = 0
        var running: [(Int, Process, Pipe, Pipe)] = []
        while next < trials.count || !running.isEmpty {
            while running.count < spec.parallel && next < trials.count {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments =
                    [
                        "--env", context.profile.name, "--project", context.repositoryRoot, "--config", configArgument,
                        "--json", "--batch", "--no-register", "--parent-run", sweepID,
                    ]
                    + (baseOverrides + trials[next] + ["training.threads=1"]).flatMap { ["--set", $0] }
                let out = Pipe()
                let err = Pipe()
                process.standardOutput = out
                process.standardError = err
                try process.run()
                running.append((next, process, out, err))
                next += 1
            }
            // Wait for the oldest trial (outputs are read once it ends; trials print little).
            let (index, process, out, err) = running.removeFirst()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            let errors = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            var trial = Trial(number: index + 1, overrides: trials[index], metrics: [:], status: "FAILED")
            if process.terminationStatus == 0,
                let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            {
                trial.runID = doc["run_id"] as? String
                trial.metrics = (doc["metrics"] as? [String: Double]) ?? [:]
                trial.metric = trial.metrics[spec.metric]
                trial.status = "FINISHED"
            } else {
                trial.error = String(decoding: errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            results[index] = trial
            if !common.json {
                print(
                    "  trial \(index + 1)/\(trials.count) \(trial.status.lowercased()): "
                        + trials[index].joined(separator: " ")
                        + (trial.metric.map { "  → \(spec.metric) " + String(format: "%.4f", $0) } ?? "")
                        + (trial.error.map { "  (\($0))" } ?? ""))
            }
        }
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
        let report = Report(sweepRun: sweepID, metric: spec.metric, trials: done, best: best?.number)
        if common.json {
            try Terminal.printJSON(report)
        } else {
            print(
                "\nTRIAL  " + spec.metric.padding(toLength: 9, withPad: " ", startingAt: 0) + "  MRR      RUN           OVERRIDES"
            )
            for t in done {
                let mark = t.number == best?.number ? "*" : " "
                print(
                    mark + String(t.number).padding(toLength: 6, withPad: " ", startingAt: 0)
                        + (t.metric.map { String(format: "%.4f", $0) } ?? "failed").padding(
                            toLength: 11, withPad: " ", startingAt: 0)
                        + (t.metrics["mrr"].map { String(format: "%.4f", $0) } ?? "-").padding(
                            toLength: 9, withPad: " ", startingAt: 0)
                        + String((t.runID ?? "-").prefix(12)).padding(toLength: 14, withPad: " ", startingAt: 0)
                        + t.overrides.joined(separator: " "))
            }
            if let best {
                print(
                    "\nbest: trial \(best.number); train it with: tandem train --env \(context.profile.name) "
                        + best.overrides.map { "--set '\($0)'" }.joined(separator: " "))
            }
        }
        if best == nil { throw UsageError("every trial failed; see the errors above", exitStatus: .verdictNo) }
    }
}
