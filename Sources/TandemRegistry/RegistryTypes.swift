public import TandemCore

/// A tracked training run (MLflow's "run"): parameters, tags, lineage, status and timings.
public struct RunRecord: Sendable, Codable, Equatable {
    public var id: String
    /// The experiment (the registered model's name for Tandem's trainings).
    public var experiment: String
    public var name: String
    /// `RUNNING`, `FINISHED`, `FAILED` or `KILLED` (as in MLflow).
    public var status: String
    public var parentID: String?
    public var startedAt: String
    public var endedAt: String?
    public var parameters: [String: String]
    public var tags: [String: String]
    public var gitCommit: String?
    public var gitBranch: String?
    public var gitDirty: Bool?
    public var featureTable: String?
    public var dataDigest: String?
    public var artifactDigest: String?
    public var timings: [String: Double]

    public init(
        id: String, experiment: String, name: String, status: String = "RUNNING", parentID: String? = nil,
        startedAt: String, endedAt: String? = nil, parameters: [String: String] = [:], tags: [String: String] = [:],
        gitCommit: String? = nil, gitBranch: String? = nil, gitDirty: Bool? = nil, featureTable: String? = nil,
        dataDigest: String? = nil, artifactDigest: String? = nil, timings: [String: Double] = [:]
    ) {
        self.id = id
        self.experiment = experiment
        self.name = name
        self.status = status
        self.parentID = parentID
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.parameters = parameters
        self.tags = tags
        self.gitCommit = gitCommit
        self.gitBranch = gitBranch
        self.gitDirty = gitDirty
        self.featureTable = featureTable
        self.dataDigest = dataDigest
        self.artifactDigest = artifactDigest
        self.timings = timings
    }

    enum CodingKeys: String, CodingKey {
        case id, experiment, name, status
        case parentID = "parent_id"
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case parameters, tags
        case gitCommit = "git_commit"
        case gitBranch = "git_branch"
        case gitDirty = "git_dirty"
        case featureTable = "feature_table"
        case dataDigest = "data_digest"
        case artifactDigest = "artifact_digest"
        case timings
    }
}

/// One value of a metric at a step (the full history is kept, so curves can be drawn).
public struct MetricPoint: Sendable, Codable, Equatable {
    public var key: String
    public var value: Double
    public var step: Int
    public var timestamp: String

    public init(key: String, value: Double, step: Int, timestamp: String) {
        self.key = key
        self.value = value
        self.step = step
        self.timestamp = timestamp
    }
}

/// A numbered version of a registered model, with everything needed to trust and trace it.
public struct ModelVersion: Sendable, Codable, Equatable {
    public var name: String
    public var version: Int
    public var createdAt: String
    public var runID: String?
    public var artifactDigest: String
    public var artifactSize: Int
    /// The signature as JSON (feature set, version, table, names and types).
    public var signature: String
    public var metrics: [String: Double]
    public var featureTable: String?
    public var dataDigest: String?
    public var gitCommit: String?
    public var gitBranch: String?
    public var gitRemote: String?
    /// Where the version came from when it was copied from another environment (`test:relevance-ranker@3`).
    public var copiedFrom: String?
    public var tags: [String: String]

    public init(
        name: String, version: Int = 0, createdAt: String = "", runID: String?, artifactDigest: String, artifactSize: Int,
        signature: String, metrics: [String: Double], featureTable: String?, dataDigest: String?, gitCommit: String?,
        gitBranch: String?, gitRemote: String?, copiedFrom: String? = nil, tags: [String: String] = [:]
    ) {
        self.name = name
        self.version = version
        self.createdAt = createdAt
        self.runID = runID
        self.artifactDigest = artifactDigest
        self.artifactSize = artifactSize
        self.signature = signature
        self.metrics = metrics
        self.featureTable = featureTable
        self.dataDigest = dataDigest
        self.gitCommit = gitCommit
        self.gitBranch = gitBranch
        self.gitRemote = gitRemote
        self.copiedFrom = copiedFrom
        self.tags = tags
    }

    /// `name@version`.
    public var reference: String { "\(name)@\(version)" }

    enum CodingKeys: String, CodingKey {
        case name, version
        case createdAt = "created_at"
        case runID = "run_id"
        case artifactDigest = "artifact_digest"
        case artifactSize = "artifact_size"
        case signature, metrics
        case featureTable = "feature_table"
        case dataDigest = "data_digest"
        case gitCommit = "git_commit"
        case gitBranch = "git_branch"
        case gitRemote = "git_remote"
        case copiedFrom = "copied_from"
        case tags
    }
}

/// An entry of an environment's audit log. Each entry carries the digest of the one before, so a changed,
/// removed or reordered entry breaks the chain.
public struct AuditEntry: Sendable, Codable, Equatable {
    public var sequence: Int
    public var at: String
    public var actor: String
    public var action: String
    public var subject: String
    public var detail: [String: String]
    public var previousDigest: String
    public var digest: String

    public init(
        sequence: Int, at: String, actor: String, action: String, subject: String, detail: [String: String],
        previousDigest: String, digest: String
    ) {
        self.sequence = sequence
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detail = detail
        self.previousDigest = previousDigest
        self.digest = digest
    }

    enum CodingKeys: String, CodingKey {
        case sequence, at, actor, action, subject, detail
        case previousDigest = "previous_digest"
        case digest
    }
}

/// `NAME@VERSION` or `NAME@ALIAS` (such as `relevance-ranker@champion`).
public enum ModelReference: Sendable, Equatable, CustomStringConvertible {
    case version(String, Int)
    case alias(String, String)

    public init?(_ text: String) {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        if let v = Int(parts[1]) {
            guard v >= 1 else { return nil }
            self = .version(parts[0], v)
        } else {
            self = .alias(parts[0], parts[1])
        }
    }

    public var name: String {
        switch self {
        case .version(let n, _), .alias(let n, _): n
        }
    }

    public var description: String {
        switch self {
        case .version(let n, let v): "\(n)@\(v)"
        case .alias(let n, let a): "\(n)@\(a)"
        }
    }
}

/// Errors of a registry; messages name what is missing and what to do. Callers decide on `code`, never on the
/// description's text: only `.notFound` means "there is no such thing"; every other code is a failure that
/// propagates (an unreachable registry is never read as an empty one).
public struct RegistryError: TandemError, Equatable {
    /// What kind of failure it is, each with the exit status it maps to.
    public enum Code: String, Sendable, Codable, CaseIterable {
        /// The run, model, version, alias or artifact asked for does not exist (the registry answered). Exit 2.
        case notFound = "not_found"
        /// The request itself is wrong: a malformed alias, a version whose artifact was not stored first. Exit 2.
        case invalidInput = "invalid_input"
        /// It exists already, or it changed under the request. Exit 2.
        case conflict
        /// The registry cannot be reached: a server that does not answer, or that is not an MLflow server at that
        /// address; a database file that is missing from its root or cannot be opened. Exit 3.
        case unreachable
        /// The registry refused the credentials (HTTP 401/403, MLflow's PERMISSION_DENIED, UNAUTHENTICATED). Exit 3.
        case denied
        /// What the registry holds does not match what it should: an artifact that does not match its digest or
        /// is missing, an alias that points at no version, a root that lost its ownership stamp. Exit 3.
        case tampered
        /// The registry answered but failed (HTTP 5xx, an answer that is not MLflow's JSON, a SQLite error). Exit 3.
        case failed

        /// The exit status a stage reports for this code.
        public var exitStatus: ExitStatus {
            switch self {
            case .notFound, .invalidInput, .conflict: .badInput
            case .unreachable, .denied, .tampered, .failed: .infrastructure
            }
        }
    }

    public var code: Code
    public var description: String
    /// MLflow's own `error_code` (`RESOURCE_DOES_NOT_EXIST`, …) when the failure came from an MLflow server.
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

    /// An error with an exit status but no finer code (bad input → `.invalidInput`, any other → `.failed`).
    public init(_ description: String, exitStatus: ExitStatus = .badInput) {
        self.init(exitStatus == .badInput ? .invalidInput : .failed, description)
    }
}

extension RegistryError {
    /// What `body` returns, or nil when it fails with `.notFound`; every other failure (an unreachable or damaged
    /// registry) propagates. The one way to read "absent" from a registry.
    public static func unlessNotFound<T>(_ body: () throws -> T) throws -> T? {
        do {
            return try body()
        } catch let e as RegistryError where e.code == .notFound {
            return nil
        }
    }
}
