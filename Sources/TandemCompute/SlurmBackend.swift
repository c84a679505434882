import Foundation
import TandemCore

/// `slurm://[CLUSTER][?partition=…&account=…&time=…&cpus=…&mem=…&qos=…&conf=…]`: jobs are `sbatch` batch jobs
/// (arrays for sweeps), followed by polling `scontrol show job` (never `sbatch --wait`), cancelled with `scancel`.
/// Job scripts name no secret: the job inherits the submitter's environment (`--export=ALL`).
public final class SlurmBackend: ComputeBackend, @unchecked Sendable {
    public let kind = "slurm"
    public let options: [String: String]
    public var pollInterval: Double = 0.1

    /// Every 20 ms for a job's first 5 s (short jobs end promptly; Slurm itself starts jobs on a 1 s tick), every
    /// 0.1 s for its first minute, then every 0.5 s (a long sweep does not keep the controller busy).
    public func pollDelay(after elapsed: Double) -> Double {
        elapsed < 5 ? 0.02 : elapsed < 60 ? pollInterval : 0.5
    }
    private let lock = NSLock()
    /// Where each submitted job's logs go (name and folder), to name them in results.
    private var logs: [String: (folder: String, name: String)] = [:]

    public init(options: [String: String]) { self.options = options }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        if let conf = options["conf"] { env["SLURM_CONF"] = conf }
        return env
    }

    var controllerName: String {
        "the Slurm controller (slurmctld" + (environment["SLURM_CONF"].map { ", SLURM_CONF=\($0)" } ?? "") + ")"
    }

    /// Runs a Slurm client command; a controller that does not answer is exit 3 naming it.
    @discardableResult
    func client(_ tool: String, _ arguments: [String]) throws -> String {
        let run: (termination: ChildProcess.Termination, stdout: String, stderr: String)
        do {
            run = try ChildProcess.run(tool, arguments, environment: environment)
        } catch {
            throw ComputeError("cannot run \(tool) (\(error)); install Slurm's client tools (Debian: slurm-client)")
        }
        let errors = run.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        guard run.termination.succeeded else {
            let down = [
                "Unable to contact slurm controller", "Could not establish a configuration source", "Connection refused",
                "Socket timed out", "Zero Bytes were transmitted", "Munge", "munge", "Unable to establish controller",
            ]
            if down.contains(where: errors.contains) {
                throw ComputeError("\(controllerName) does not answer: \(errors)")
            }
            throw ComputeError("\(tool) failed: \(errors)", exitStatus: errors.contains("Invalid") ? .badInput : .infrastructure)
        }
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func submit(_ job: ComputeJob) throws -> String {
        try FileManager.default.createDirectory(atPath: job.logDirectory, withIntermediateDirectories: true)
        // The script sets only non-secret variables; secrets reach the job through --export=ALL.
        let script = (job.logDirectory as NSString).appendingPathComponent("\(job.name)-\(UUID().uuidString.prefix(8)).sh")
        var lines = ["#!/bin/sh"]
        for (k, v) in job.environment.sorted(by: { $0.key < $1.key }) { lines.append("export \(k)=\(shellQuote(v))") }
        if job.arrayCount != nil { lines.append("export TANDEM_ARRAY_INDEX=\"$SLURM_ARRAY_TASK_ID\"") }
        // slurmstepd runs a job whose --chdir is missing in /tmp instead: refuse to run elsewhere (exit 126, read
        // back as a launch failure), as for a stage binary the node does not have (the shell's 127).
        let wd = shellQuote(job.workingDirectory)
        lines.append(
            "cd \(wd) 2>/dev/null || { echo \"tandem: launch failure: working directory \"\(wd)\" does not exist on $(hostname)\"; exit 126; }"
        )
        lines.append(
            "[ -x \(shellQuote(job.executable)) ] || { echo \"tandem: launch failure: \"\(shellQuote(job.executable))\" is not an executable on $(hostname)\"; exit 126; }"
        )
        lines.append("exec " + ([job.executable] + job.arguments).map(shellQuote).joined(separator: " "))
        try (lines.joined(separator: "\n") + "\n").write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o700)
        let pattern = job.arrayCount == nil ? "\(job.name)-%j.out" : "\(job.name)-%A_%a.out"
        let output = (job.logDirectory as NSString).appendingPathComponent(pattern)
        var args = [
            "--parsable", "--job-name", "tandem-\(job.name)", "--chdir", job.workingDirectory, "--output", output, "--export",
            "ALL",
        ]
        if let n = job.arrayCount {
            args += [
                "--array", "0-\(n - 1)" + ((job.maxParallel ?? options["max_jobs"].flatMap { Int($0) }).map { "%\($0)" } ?? ""),
            ]
        }
        if let s = job.timeLimitSeconds {
            args += ["--time", "\(s / 60):" + (s % 60 < 10 ? "0" : "") + "\(s % 60)"]
        } else if let t = options["time"] {
            args += ["--time", t]
        }
        if let p = options["partition"] { args += ["--partition", p] }
        if let a = options["account"] { args += ["--account", a] }
        if let q = options["qos"] { args += ["--qos", q] }
        args += ["--cpus-per-task", options["cpus"] ?? String(job.cpus)]
        if let m = options["mem"] { args += ["--mem", m] }
        if let extra = options["sbatch"] {
            args += (extra.removingPercentEncoding ?? extra).split(whereSeparator: { $0 == " " || $0 == "+" }).map(String.init)
        }
        let id: String
        do {
            id = String(try client("sbatch", args + [script]).split(separator: ";").first ?? "")
        } catch let e as ComputeError {
            throw ComputeError(
                "job \(job.name) was refused by sbatch (its log would be \(output)): \(e.description)", exitStatus: e.exitStatus)
        }
        lock.withLock { logs[id] = (job.logDirectory, job.name) }
        return id
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

    public func poll(_ id: String) throws -> [JobResult]? {
        let text = try client("scontrol", ["show", "job", "-o", id])
        let tasks = text.split(separator: "\n").map(Self.fields).filter { $0["JobId"] != nil }
        // Array tasks not yet started show as one pending record with ArrayTaskId=0-3 (or 1,3 or 2-7%2).
        let pendingRange = tasks.contains { t in
            let a = t["ArrayTaskId"] ?? ""
            return a.contains("-") || a.contains(",") || a.contains("%")
        }
        guard !tasks.isEmpty, !pendingRange, tasks.allSatisfy({ Self.finalStates.contains($0["JobState"] ?? "") }) else {
            return nil
        }
        // A cancelled or failed job can still be completing (its processes being torn down, `CG` in squeue):
        // it has ended only once it has left the queue, so that nothing of it runs after Tandem returns.
        if try isActive(id) { return nil }
        return tasks.map { result(id, $0) }.sorted { ($0.task ?? 0) < ($1.task ?? 0) }
    }

    func result(_ id: String, _ f: [String: String]) -> JobResult {
        let state = f["JobState"] ?? ""
        let exit = (f["ExitCode"] ?? "0:0").split(separator: ":")
        let code = Int32(exit.first ?? "0") ?? 0
        let signal = Int32(exit.count > 1 ? exit[1] : "0") ?? 0
        let reason = f["Reason"].flatMap { $0 == "None" ? nil : $0 }
        var outcome: JobOutcome
        switch state {
        case "COMPLETED": outcome = .completed
        case "CANCELLED": outcome = .cancelled
        case "TIMEOUT", "DEADLINE": outcome = .timeout
        case "NODE_FAIL", "BOOT_FAIL", "PREEMPTED", "OUT_OF_MEMORY": outcome = .nodeFailure
        default: outcome = reason == "JobLaunchFailure" ? .launchFailed : .failed
        }
        let task = f["ArrayTaskId"].flatMap { Int($0) }
        let log: String
        if let l = lock.withLock({ logs[id] }) {
            log = (l.folder as NSString).appendingPathComponent("\(l.name)-\(id)" + (task.map { "_\($0)" } ?? "") + ".out")
        } else {
            log = f["StdOut"] ?? ""
        }
        var why = reason
        if outcome == .failed && signal == 0 && code == 126,
            let text = try? String(contentsOfFile: log, encoding: .utf8),
            let line = text.split(separator: "\n").last(where: { $0.hasPrefix("tandem: launch failure: ") })
        {
            outcome = .launchFailed
            why = String(line.dropFirst("tandem: launch failure: ".count))
        } else if outcome == .launchFailed {
            why =
                "\(reason ?? "launch failure") (exit \(code):\(signal)); slurmd could not start it: check that the working "
                + "directory \(f["WorkDir"] ?? "?") exists on the node and that the log folder is writable"
        } else if outcome == .failed && signal != 0 {
            why = "killed by signal \(signal)"
        }
        return JobResult(
            jobID: id, task: task, outcome: outcome,
            exitCode: outcome == .failed && signal == 0 ? code : (outcome == .completed ? 0 : nil), reason: why, logPath: log)
    }

    public func cancel(_ id: String) throws {
        do { try client("scancel", [id]) } catch let e as ComputeError
            where e.description.contains("already completing or completed") || e.description.contains("Invalid job id")
        {
            // It ended (or left the controller) between the decision to cancel and the call: nothing to stop.
        }
    }

    /// Asks the controller whether it is up (`scontrol ping`); throws exit 3 naming it when it is not.
    public func ping() throws -> String {
        let run: (termination: ChildProcess.Termination, stdout: String, stderr: String)
        do { run = try ChildProcess.run("scontrol", ["ping"], environment: environment) } catch {
            throw ComputeError("cannot run scontrol (\(error)); install Slurm's client tools (Debian: slurm-client)")
        }
        let answer = (run.stdout + run.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
        guard run.termination.succeeded, answer.contains("is UP") else {
            throw ComputeError("\(controllerName) does not answer: \(answer)")
        }
        return answer.replacingOccurrences(of: "\n", with: "; ")
    }

    /// Tandem's jobs (named `tandem-…`) of this user that are queued or running, one entry per job (array tasks
    /// folded into their array's id), with their name and state.
    public func queuedTandemJobs() throws -> [(id: String, name: String, state: String)] {
        let text = try client("squeue", ["-h", "--me", "-o", "%i|%j|%T"])
        var seen = Set<String>()
        var out: [(String, String, String)] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, parts[1].hasPrefix("tandem-") else { continue }
            let id = String(parts[0].split(separator: "_").first ?? "")
            if seen.insert(id).inserted { out.append((id, String(parts[1].dropFirst("tandem-".count)), parts[2])) }
        }
        return out
    }

    /// Whether a job is still queued or running (false once it has ended or left the controller).
    public func isActive(_ id: String) throws -> Bool {
        do {
            return !(try client("squeue", ["-h", "-j", id, "-o", "%T"])).isEmpty
        } catch let e as ComputeError where e.description.contains("Invalid job id") {
            return false
        }
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
