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
