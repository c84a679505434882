import Foundation
public import TandemCore

/// A stage run as a job: the executable (a stage binary), its arguments and environment, where it runs and
/// where its log goes. Secrets are never written into a job: the job inherits the submitter's environment
/// (Slurm's `--export=ALL`; a local child gets this process's environment), so only variable *names* appear in
/// profiles and job scripts.
public struct ComputeJob: Sendable {
    public var name: String
    public var executable: String
    public var arguments: [String]
    /// Variables set for the job on top of the inherited environment (never secrets: they are written into the
    /// job script).
    public var environment: [String: String]
    public var workingDirectory: String
    public var logDirectory: String
    /// Tasks of an array job (nil for a single job); each task gets `TANDEM_ARRAY_INDEX` = 0, 1, …
    public var arrayCount: Int?
    /// Seconds the job may run (Slurm rounds up to whole minutes).
    public var timeLimitSeconds: Int?
    /// At most this many of an array's tasks run at once (Slurm's `--array=…%N`).
    public var maxParallel: Int?
    /// CPUs each task needs (Slurm's --cpus-per-task, unless the compute root sets `cpus`).
    public var cpus: Int

    public init(
        name: String, executable: String, arguments: [String], environment: [String: String] = [:],
        workingDirectory: String, logDirectory: String, arrayCount: Int? = nil, timeLimitSeconds: Int? = nil,
        maxParallel: Int? = nil,
        cpus: Int = 1
    ) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.logDirectory = logDirectory
        self.arrayCount = arrayCount
        self.timeLimitSeconds = timeLimitSeconds
        self.cpus = cpus
        self.maxParallel = maxParallel
    }
}

/// How a job (or one task of an array) ended.
public enum JobOutcome: String, Sendable, Codable {
    case completed, failed, cancelled, timeout
    case nodeFailure = "node_failure"
    case launchFailed = "launch_failed"
}

/// One finished task.
public struct JobResult: Sendable, Codable {
    public var jobID: String
    public var task: Int?
    public var outcome: JobOutcome
    /// The task's exit code when it ran to an end.
    public var exitCode: Int32?
    public var reason: String?
    public var logPath: String
    /// The task's log when the backend kept it in memory rather than in `logPath` (the in-memory backend).
    public var capturedLog: String?

    public init(
        jobID: String, task: Int?, outcome: JobOutcome, exitCode: Int32?, reason: String?, logPath: String,
        capturedLog: String? = nil
    ) {
        self.jobID = jobID
        self.task = task
        self.outcome = outcome
        self.exitCode = exitCode
        self.reason = reason
        self.logPath = logPath
        self.capturedLog = capturedLog
    }

    /// The exit status Tandem reports for it: the stage's own code when it ran, 3 when the job could not run
    /// or was stopped (launch failure, timeout, node failure, cancellation).
    public var exitStatus: Int32 {
        switch outcome {
        case .completed: 0
        case .failed: exitCode.map { $0 == 0 ? 3 : $0 } ?? 3
        default: ExitStatus.infrastructure.rawValue
        }
    }

    /// The task's log, when it can be read.
    public var log: String? { capturedLog ?? (try? String(contentsOfFile: logPath, encoding: .utf8)) }

    /// How it ended, for people: `failed with exit 2: reason — last lines of the log | … (log PATH)`.
    public func summary(logLines: Int = 3) -> String {
        let tail = (log ?? "").split(separator: "\n").suffix(logLines).joined(separator: " | ")
        return outcome.rawValue + (exitCode.map { " with exit \($0)" } ?? "") + (reason.map { ": \($0)" } ?? "")
            + (tail.isEmpty ? "" : " — \(tail)") + " (log \(logPath))"
    }
}

/// Where stage jobs run, chosen from the profile's `compute` root: `local://` (child processes) or `slurm://`.
///
/// Contract: `submit` returns at once with a job id; `poll` answers one result per task (in task order) once
/// every task has ended and nil while any is queued or running; `cancel` stops the job (queued tasks never
/// start, running ones are signalled, then killed); `wait` follows a job by polling and cancels it when
/// `shouldCancel` says so.
public protocol ComputeBackend: Sendable {
    /// `local` or `slurm`.
    var kind: String { get }
    /// Seconds between two polls while waiting.
    var pollInterval: Double { get }
    func submit(_ job: ComputeJob) throws -> String
    func poll(_ id: String) throws -> [JobResult]?
    func cancel(_ id: String) throws
    /// Seconds to wait before the next poll of a job followed for `elapsed` seconds.
    func pollDelay(after elapsed: Double) -> Double
    /// Submits a job and calls `beforeStart` with its id before any of its tasks starts where the backend can hold
    /// them (local://: the journal records a job before its first process exists), else right after submitting.
    func submit(_ job: ComputeJob, beforeStart: (String) throws -> Void) throws -> String
    /// What another process needs to stop this backend's jobs, recorded in the job journal (Slurm: its SLURM_CONF).
    var journalConf: String? { get }
    /// Asks to be told the job id and process group of each task as it starts (local://; others have no groups).
    func observeTaskStarts(_ handler: @escaping @Sendable (String, Int32) -> Void)
}

extension ComputeBackend {
    public func pollDelay(after elapsed: Double) -> Double { pollInterval }

    public func submit(_ job: ComputeJob, beforeStart: (String) throws -> Void) throws -> String {
        let id = try submit(job)
        try beforeStart(id)
        return id
    }

    public var journalConf: String? { nil }

    public func observeTaskStarts(_ handler: @escaping @Sendable (String, Int32) -> Void) {}

    /// Follows a job until every task has ended, calling `eachPoll` between polls; cancels it (once) when
    /// `shouldCancel` turns true.
    public func wait(_ id: String, shouldCancel: () -> Bool = { false }, eachPoll: () -> Void = {}) throws -> [JobResult] {
        var cancelled = false
        let start = ContinuousClock.now
        while true {
            if !cancelled && shouldCancel() {
                try cancel(id)
                cancelled = true
            }
            if let results = try poll(id) { return results }
            eachPoll()
            Thread.sleep(forTimeInterval: pollDelay(after: (ContinuousClock.now - start).seconds))
        }
    }

    /// Submits and waits.
    public func run(_ job: ComputeJob, shouldCancel: () -> Bool = { false }) throws -> [JobResult] {
        let id = try submit(job)
        return try wait(id, shouldCancel: shouldCancel)
    }
}

/// Quotes a word for a POSIX shell.
func shellQuote(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
