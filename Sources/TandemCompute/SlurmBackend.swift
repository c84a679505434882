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

    /// Runs a Slurm client tool (`sbatch`, `scontrol`, …) with the backend's environment; tests give recorded answers.
    let runTool: @Sendable (_ tool: String, _ arguments: [String], _ environment: [String: String]) throws -> SlurmToolRun

    public init(
        options: [String: String],
        runTool: @escaping @Sendable (String, [String], [String: String]) throws -> SlurmToolRun = SlurmToolRun.run
    ) {
        self.options = options
        self.runTool = runTool
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        if let conf = options["conf"] { env["SLURM_CONF"] = conf }
        return env
    }

    var controllerName: String {
        "the Slurm controller (slurmctld" + (environment["SLURM_CONF"].map { ", SLURM_CONF=\($0)" } ?? "") + ")"
    }

    /// What a Slurm client command answered: its output, or a refusal by a controller that answers.
    enum Answer: Equatable {
        case output(String)
        case refused(SlurmToolRun)
    }

    /// Runs a Slurm client command, deciding on exit statuses only, never on the words Slurm prints (which change
    /// between versions and are not an interface): exit 0 is an answer; a non-zero exit is a refusal when the
    /// controller answers `scontrol ping` (exit 0), and "the controller does not answer" (exit 3, naming it) when it
    /// does not. Slurm's client tools exit 1 for nearly every error and print no machine-readable code (Slurm 22.05's
    /// `--json` output ignores `-j` and has none for sbatch), so what a refusal means is decided by each caller
    /// from the request it made; its stderr is quoted for people only.
    func attempt(_ tool: String, _ arguments: [String]) throws -> Answer {
        let run = try launch(tool, arguments)
        if run.status == 0 { return .output(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard try controllerAnswers() else {
            throw Failure(.failed, "\(controllerName) does not answer: \(run.errors)")
        }
        return .refused(run)
    }

    /// Runs a Slurm client command and returns its output; a refusal is `refused` (exit 3 unless the caller knows
    /// better), a controller that does not answer is exit 3 naming it.
    @discardableResult
    func client(_ tool: String, _ arguments: [String], refused: ExitStatus = .infrastructure) throws -> String {
        switch try attempt(tool, arguments) {
        case .output(let text): return text
        case .refused(let run):
            throw Failure(Failure.Code(exitStatus: refused), "\(tool) failed (exit \(run.status)): \(run.errors)")
        }
    }

    func launch(_ tool: String, _ arguments: [String]) throws -> SlurmToolRun {
        do { return try runTool(tool, arguments, environment) } catch {
            throw Failure(.failed, "cannot run \(tool) (\(error)); install Slurm's client tools (Debian: slurm-client)")
        }
    }

    /// Whether a controller answers: `scontrol ping` exits 0 when one does, 1 when none does (its text, "is UP",
    /// is for people).
    func controllerAnswers() throws -> Bool {
        try launch("scontrol", ["ping"]).status == 0
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
        switch try attempt("sbatch", args + [script]) {
        case .output(let text):
            id = String(text.split(separator: ";").first ?? "")
        case .refused(let run):
            // A controller that answers and refuses the job refuses the request (a partition, account, QOS, time or
            // memory it does not have or allow): exit 2, fix the compute root. sbatch exits 1 for every such refusal
            // (255 when it rejects an option itself) and gives no code that tells them from a fault of its own.
            throw Failure(
                .invalidInput,
                "job \(job.name) was refused by sbatch (exit \(run.status); its log would be \(output)): \(run.errors)")
        }
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw Failure(.failed, "sbatch answered '\(id)' instead of a job id (--parsable)")
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

    /// The exit status of the job script's own launch checks (and of a shell that cannot exec the stage).
    static let launchFailureExit: Int32 = 126
    /// The line the job script prints before it exits 126, with the reason after it.
    static let launchFailureMarker = "tandem: launch failure: "

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
        if outcome == .failed && signal == 0 && code == Self.launchFailureExit {
            // The job script's own check failed (or exec could not run the binary): decided on the exit status; the
            // line the script printed is only the reason shown.
            outcome = .launchFailed
            let line = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n")
                .last(where: { $0.hasPrefix(Self.launchFailureMarker) })
            why =
                line.map { String($0.dropFirst(Self.launchFailureMarker.count)) }
                ?? "the job script could not start the stage (exit 126)"
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
        guard case .refused(let run) = try attempt("scancel", [id]) else { return }
        // A refusal of a job that is no longer queued or running (it ended, or left the controller, between the
        // decision to cancel and the call) leaves nothing to stop.
        if try isActive(id) {
            throw Failure(.failed, "scancel could not cancel job \(id) (exit \(run.status)): \(run.errors)")
        }
    }

    /// Asks the controller whether it is up (`scontrol ping`, decided on its exit status); throws exit 3 naming it
    /// when it is not.
    public func ping() throws -> String {
        let run = try launch("scontrol", ["ping"])
        let answer = (run.stdout + run.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
        guard run.status == 0 else {
            throw Failure(.failed, "\(controllerName) does not answer: \(answer)")
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
        switch try attempt("squeue", ["-h", "-j", id, "-o", "%T"]) {
        case .output(let states): return !states.isEmpty
        // squeue refuses a job id the controller no longer knows (exit 1); the controller answers, so the job has
        // left it: not active.
        case .refused: return false
        }
    }
}
