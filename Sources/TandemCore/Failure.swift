/// The one failure type of Tandem: a `code` callers decide on (never the description's text), the exit status a
/// stage reports for it, and a description that says what failed, where, and what to do (never a secret).
///
/// Every module throws it for the cases it does not type more precisely (git, compute, registries, promotion,
/// input files, commands); the richer errors (``TandemError`` conformers such as a profile's located error) carry
/// a code too. Only `.notFound` means "there is no such thing": every other code is a failure that propagates (an
/// unreachable registry is never read as an empty one).
public struct Failure: TandemError, Equatable {
    /// What kind of failure it is, each with the exit status it maps to (docs/architecture.md, "Exit codes").
    public enum Code: String, Sendable, Codable, CaseIterable {
        /// The thing asked for (a run, model, version, alias, artifact, job, promotion, ref) does not exist: the
        /// store or tool answered. Exit 2.
        case notFound = "not_found"
        /// The request itself is wrong: a malformed argument, file or reference; what to fix is in the message.
        /// Exit 2.
        case invalidInput = "invalid_input"
        /// It exists already, or it changed under the request. Exit 2.
        case conflict
        /// The work's own verdict is no: tests failed, the challenger lost, a release manager rejected. Exit 1.
        case refused
        /// Waiting for something outside Tandem, such as an approval. Exit 4.
        case waiting
        /// A server or store cannot be reached: a server that does not answer or is not what the root says, a
        /// database file missing from its root. Exit 3.
        case unreachable
        /// Credentials were refused (HTTP 401/403, MLflow's PERMISSION_DENIED, UNAUTHENTICATED). Exit 3.
        case denied
        /// What a store holds does not match what it should: an artifact that does not match its digest, an alias
        /// that points at no version, a root that lost its ownership stamp. Exit 3.
        case tampered
        /// The infrastructure answered but failed (a tool's error, HTTP 5xx, a SQLite error, a write that failed).
        /// Exit 3.
        case failed

        /// The exit status a stage reports for this code.
        public var exitStatus: ExitStatus {
            switch self {
            case .notFound, .invalidInput, .conflict: .badInput
            case .refused: .verdictNo
            case .waiting: .waiting
            case .unreachable, .denied, .tampered, .failed: .infrastructure
            }
        }

        /// The general code of an exit status, for a failure known only by the status it must end with (a stage
        /// job's own exit code): 1 `.refused`, 2 `.invalidInput`, 4 `.waiting`, any other `.failed`.
        public init(exitStatus: ExitStatus) {
            switch exitStatus {
            case .verdictNo: self = .refused
            case .badInput: self = .invalidInput
            case .waiting: self = .waiting
            case .done, .infrastructure: self = .failed
            }
        }
    }

    public var code: Code
    public var description: String
    /// A server's own error code (MLflow's `error_code`, such as `RESOURCE_DOES_NOT_EXIST`) when a server answered.
    public var serverCode: String?
    /// The HTTP status of the answer, when there was one.
    public var httpStatus: Int?

    public var exitStatus: ExitStatus { code.exitStatus }

    public init(_ code: Code, _ description: String, serverCode: String? = nil, httpStatus: Int? = nil) {
        self.code = code
        self.description = description
        self.serverCode = serverCode
        self.httpStatus = httpStatus
    }

    /// What `body` returns, or nil when it fails with `.notFound`; every other failure (an unreachable or damaged
    /// store) propagates. The one way to read "absent".
    public static func unlessNotFound<T>(_ body: () throws -> T) throws -> T? {
        do {
            return try body()
        } catch let e as Failure where e.code == .notFound {
            return nil
        }
    }
}
