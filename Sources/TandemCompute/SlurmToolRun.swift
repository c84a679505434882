import Foundation
import TandemCore

/// How one run of a Slurm client tool ended and what it printed, as the backend decides on it (and as tests
/// record it).
public struct SlurmToolRun: Sendable, Equatable {
    /// The exit status (128 + N for a tool killed by signal N).
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String = "", stderr: String = "") {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// What it printed on stderr, trimmed, for people.
    var errors: String { stderr.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// Runs the tool as a child process.
    @Sendable public static func run(_ tool: String, _ arguments: [String], _ environment: [String: String]) throws
        -> SlurmToolRun
    {
        let run = try ChildProcess.run(tool, arguments, environment: environment)
        let status: Int32
        switch run.termination {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return SlurmToolRun(status: status, stdout: run.stdout, stderr: run.stderr)
    }
}
