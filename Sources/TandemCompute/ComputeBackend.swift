import Foundation
import TandemCore

/// A stage run as a job: the executable (a stage binary), its arguments and environment, where it runs and
/// where its log goes. Secrets are never written into a job: they are passed by name from the submitter's
/// environment (`passVariables`).
public struct ComputeJob: Sendable {
    public var name: String
    public var executable: String
    public var arguments: [String]
    /// Variables set for the job (no secrets).
    public var environment: [String: String]
    /// Variables passed by name from the submitter's environment (secrets among them).
    public var passVariables: [String]
    public var workingDirectory: String
    public var logDirectory: String
    /// Tasks of an array job (nil for a single job); each task gets `TANDEM_ARRAY_INDEX` = 0, 1, …
    public var arrayCount: Int?
    /// Seconds the job may run (Slurm rounds up to whole minutes).
    public var timeLimitSeconds: Int?

    public init(name: String, executable: String, arguments: [String], environment: [String: String] = [:], passVariables: [String] = [],
                workingDirectory: String, logDirectory: String, arrayCount: Int? = nil, timeLimitSeconds: Int? = nil) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.passVariables = passVariables
        self.workingDirectory = workingDirectory
        self.logDirectory = logDirectory
        self.arrayCount = arrayCount
        self.timeLimitSeconds = timeLimitSeconds
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
    public var log: String? { try? String(contentsOfFile: logPath, encoding: .utf8) }
}

/// Errors of a compute backend; the message names the scheduler's own reason.
public struct ComputeError: TandemError {
    public var description: String
    public var exitStatus: ExitStatus

    public init(_ description: String, exitStatus: ExitStatus = .infrastructure) {
        self.description = description
        self.exitStatus = exitStatus
    }
}

/// Where stage jobs run, chosen from the profile's `compute` root: `local://` (child processes) or `slurm://`.
///
/// Contract: `submit` returns at once with a job id; `wait` follows the job by polling until every task has
/// ended and returns one result per task (in task order), calling `shouldCancel` between polls and cancelling
/// the job when it says so; `cancel` stops it (no orphans); `active` lists jobs this backend started that are
/// still queued or running (so `recover` can find what a crashed run left behind).
public protocol ComputeBackend: Sendable {
    func submit(_ job: ComputeJob) throws -> String
    func wait(_ id: String, shouldCancel: @Sendable () -> Bool) throws -> [JobResult]
    func cancel(_ id: String) throws
    func active(namePrefix: String) throws -> [String]
}

extension ComputeBackend {
    /// Submits and waits.
    public func run(_ job: ComputeJob, shouldCancel: @Sendable () -> Bool = { false }) throws -> [JobResult] {
        let id = try submit(job)
        return try wait(id, shouldCancel: shouldCancel)
    }
}

/// Quotes a word for a POSIX shell.
func shellQuote(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
