import Foundation
import TandemCore

/// `slurm://[CLUSTER][?partition=…&account=…&time=…&cpus=…&mem=…&qos=…&conf=…]`: jobs are `sbatch` batch jobs
/// (arrays for sweeps), followed by polling `scontrol show job` (never `sbatch --wait`), cancelled with `scancel`.
/// Job scripts name no secret: the job inherits the submitter's environment (`--export=ALL`).
public final class SlurmBackend: ComputeBackend, @unchecked Sendable {
    public let options: [String: String]
    /// Seconds between polls.
    public var pollInterval: Double = 0.25

    public init(options: [String: String]) { self.options = options }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        if let conf = options["conf"] { env["SLURM_CONF"] = conf }
        return env
    }

    /// Runs a Slurm client command; a controller that does not answer is exit 3 naming it.
    @discardableResult
    func client(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { throw ComputeError("cannot run \(tool) (\(error)); install the Slurm client (slurm-client)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            if errors.contains("Unable to contact slurm controller") || errors.contains("Could not establish a configuration source")
                || errors.contains("Connection refused") || errors.contains("Socket timed out")
            {
                throw ComputeError("the Slurm controller (slurmctld\(options["conf"].map { ", SLURM_CONF=\($0)" } ?? "")) does not answer: \(errors)")
            }
            throw ComputeError("\(tool) failed: \(errors)", exitStatus: errors.contains("Invalid") ? .badInput : .infrastructure)
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func submit(_ job: ComputeJob) throws -> String {
        try FileManager.default.createDirectory(atPath: job.logDirectory, withIntermediateDirectories: true)
        let script = (job.logDirectory as NSString).appendingPathComponent("\(job.name)-\(UUID().uuidString.prefix(8)).sh")
        var lines = ["#!/bin/sh"]
        for (k, v) in job.environment.sorted(by: { $0.key < $1.key }) { lines.append("export \(k)=\(shellQuote(v))") }
        if job.arrayCount != nil { lines.append("export TANDEM_ARRAY_INDEX=\"$SLURM_ARRAY_TASK_ID\"") }
        lines.append("exec " + ([job.executable] + job.arguments).map(shellQuote).joined(separator: " "))
        try (lines.joined(separator: "\n") + "\n").write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o700)
        let output = (job.logDirectory as NSString).appendingPathComponent(job.arrayCount == nil ? "\(job.name)-%j.out" : "\(job.name)-%A_%a.out")
        var args = ["--parsable", "--job-name", "tandem-\(job.name)", "--chdir", job.workingDirectory, "--output", output,
                    "--export", "ALL"]
        if let n = job.arrayCount { args += ["--array", "0-\(n - 1)"] }
        if let s = job.timeLimitSeconds { args += ["--time", "\(s / 60):\(String(format: "%02d", s % 60))"] } else if let t = options["time"] { args += ["--time", t] }
        if let p = options["partition"] { args += ["--partition", p] }
        if let a = options["account"] { args += ["--account", a] }
        if let q = options["qos"] { args += ["--qos", q] }
        if let c = options["cpus"] { args += ["--cpus-per-task", c] }
        if let m = options["mem"] { args += ["--mem", m] }
        let id = try client("sbatch", args + [script])
        return String(id.split(separator: ";").first ?? "")
    }

    /// One line of `scontrol show job -o`, as key → value.
    static func fields(_ line: Substring) -> [String: String] {
        var out: [String: String] = [:]
        for token in line.split(separator: " ") {
            guard let eq = token.firstIndex(of: "=") else { continue }
            out[String(token[..<eq])] = String(token[token.index(after: eq)...])
        }
        return out
    }

    static let finalStates: Set<String> = [
        "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED",
    ]

    public func wait(_ id: String, shouldCancel: @Sendable () -> Bool) throws -> [JobResult] {
        var cancelled = false
        while true {
            if !cancelled && shouldCancel() {
                try cancel(id)
                cancelled = true
            }
            let text = try client("scontrol", ["show", "job", "-o", id])
            let tasks = text.split(separator: "\n").map(Self.fields).filter { $0["JobId"] != nil }
            // Array tasks not yet started show as one pending record with ArrayTaskId=0-3.
            let pendingRange = tasks.contains { ($0["ArrayTaskId"] ?? "").contains("-") || ($0["ArrayTaskId"] ?? "").contains(",") }
            if !tasks.isEmpty, !pendingRange, tasks.allSatisfy({ Self.finalStates.contains($0["JobState"] ?? "") }) {
                return tasks.map(result).sorted { ($0.task ?? 0) < ($1.task ?? 0) }
            }
            Thread.sleep(forTimeInterval: pollInterval)
        }
    }

    func result(_ f: [String: String]) -> JobResult {
        let state = f["JobState"] ?? ""
        let exit = (f["ExitCode"] ?? "0:0").split(separator: ":")
        let code = Int32(exit.first ?? "0") ?? 0
        let signal = Int32(exit.count > 1 ? exit[1] : "0") ?? 0
        let reason = f["Reason"].flatMap { $0 == "None" ? nil : $0 }
        let outcome: JobOutcome
        switch state {
        case "COMPLETED": outcome = .completed
        case "CANCELLED": outcome = .cancelled
        case "TIMEOUT", "DEADLINE": outcome = .timeout
        case "NODE_FAIL", "BOOT_FAIL", "PREEMPTED", "OUT_OF_MEMORY": outcome = .nodeFailure
        default: outcome = reason == "JobLaunchFailure" || (code == 0 && signal != 0) ? .launchFailed : .failed
        }
        let task = f["ArrayTaskId"].flatMap { Int($0) }
        return JobResult(
            jobID: f["ArrayJobId"] ?? f["JobId"] ?? "", task: task, outcome: outcome, exitCode: outcome == .failed ? code : (outcome == .completed ? 0 : nil),
            reason: reason ?? (signal != 0 ? "signal \(signal)" : nil), logPath: f["StdOut"] ?? "")
    }

    public func cancel(_ id: String) throws { try client("scancel", [id]) }

    public func active(namePrefix: String) throws -> [String] {
        let text = try client("squeue", ["-h", "-o", "%i %j"])
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, parts[1].hasPrefix("tandem-" + namePrefix) else { return nil }
            return String(parts[0].split(separator: "_").first ?? "")
        }.uniqued()
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
