/// The exit codes every Tandem stage uses (docs/architecture.md, "Exit codes").
///
/// CI systems branch on these, so they never change meaning:
/// `0` the work is done, `1` the work's own verdict was no, `2` bad input or usage,
/// `3` infrastructure unreachable or failed, `4` waiting (for example for an approval).
public enum ExitStatus: Int32, Sendable, CaseIterable, CustomStringConvertible {
    /// The work is done.
    case done = 0
    /// The work's own verdict was no: tests failed, the challenger lost, a release manager rejected.
    case verdictNo = 1
    /// Bad input or usage; the message says what to fix.
    case badInput = 2
    /// Infrastructure unreachable or failed (a root that cannot be written, a server that does not answer).
    case infrastructure = 3
    /// Waiting for something outside Tandem, such as an approval.
    case waiting = 4

    /// A few words on what the code means, for help texts.
    public var description: String {
        switch self {
        case .done: "done"
        case .verdictNo: "the work's verdict was no (tests failed, challenger lost, rejected)"
        case .badInput: "bad input or usage; the message says what to fix"
        case .infrastructure: "infrastructure unreachable or failed"
        case .waiting: "waiting (for example for an approval)"
        }
    }
}

/// An error that knows which exit status it maps to and says, in its description,
/// what failed, where, and what to do. Descriptions never contain secrets.
public protocol TandemError: Error, CustomStringConvertible {
    /// The exit status a stage reports when it stops on this error.
    var exitStatus: ExitStatus { get }
    /// What kind of failure it is, for callers that decide on it (``Failure/Code``); by default the general code
    /// of the exit status.
    var code: Failure.Code { get }
}

extension TandemError {
    public var code: Failure.Code { Failure.Code(exitStatus: exitStatus) }
}

extension ExitStatus {
    /// The exit codes in one paragraph, for every command's `--help` and the umbrella's overview.
    public static let help = """
        Exit codes: 0 done; 1 the work's verdict was no (tests failed, challenger lost, rejected); \
        2 bad input or usage; 3 infrastructure unreachable or failed; 4 waiting (for example for an approval).
        """
}
