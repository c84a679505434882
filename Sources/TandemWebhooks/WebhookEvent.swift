import Foundation

/// Something that happened to a promotion, told to the CI server and the teams.
public struct WebhookEvent: Sendable, Codable, Equatable {
    /// `promotion.requested`, `.tests_failed`, `.evaluated`, `.awaiting_approval`, `.approved`, `.rejected`,
    /// `.promoted`, `.rolled_back`, `.failed`, or `tandem.test`.
    public var type: String
    public var promotionID: String
    public var environment: String
    /// The promotion's state after the event.
    public var state: String
    public var commit: String
    public var branch: String
    public var model: String
    /// The model's version in `environment` (the target's number): nil until the version is copied there.
    public var modelVersion: Int?
    /// The environment the candidate comes from, and its version there (a promotion from test@3 into prod,
    /// where it becomes @2, has `source_version` 3 and, once copied, `model_version` 2).
    public var sourceEnvironment: String?
    public var sourceVersion: Int?
    public var reportDigest: String?
    /// The decision or outcome in words ("NDCG@10 +0.012, 95% CI [+0.004, +0.020], required ≥ +0.005: pass").
    public var summary: String
    public var link: String?
    public var time: String

    public init(
        type: String, promotionID: String, environment: String, state: String, commit: String, branch: String,
        model: String, modelVersion: Int?, sourceEnvironment: String? = nil, sourceVersion: Int? = nil,
        reportDigest: String?, summary: String, link: String?, time: String
    ) {
        self.type = type
        self.promotionID = promotionID
        self.environment = environment
        self.state = state
        self.commit = commit
        self.branch = branch
        self.model = model
        self.modelVersion = modelVersion
        self.sourceEnvironment = sourceEnvironment
        self.sourceVersion = sourceVersion
        self.reportDigest = reportDigest
        self.summary = summary
        self.link = link
        self.time = time
    }

    enum CodingKeys: String, CodingKey {
        case type
        case promotionID = "promotion_id"
        case environment, state, commit, branch, model
        case modelVersion = "model_version"
        case sourceEnvironment = "source_environment"
        case sourceVersion = "source_version"
        case reportDigest = "report_digest"
        case summary, link, time
    }

    /// The model in words: `relevance-ranker@2 in prod (from test:relevance-ranker@3)` once it has a version in
    /// `environment`, `test:relevance-ranker@3 → prod` before.
    public var subject: String {
        let source = sourceVersion.map { "\(sourceEnvironment.map { "\($0):" } ?? "")\(model)@\($0)" }
        if let modelVersion {
            return "\(model)@\(modelVersion) in \(environment)" + (source.map { " (from \($0))" } ?? "")
        }
        return source.map { "\($0) → \(environment)" } ?? "\(model) in \(environment)"
    }

    /// The CI status this event means: pending, success, failure or error.
    public var ciState: CIState {
        switch type {
        case "promotion.promoted", "promotion.rolled_back": .success
        case "promotion.tests_failed", "promotion.rejected": .failure
        case "promotion.failed": .error
        default: .pending
        }
    }
}

/// A CI commit-status state, in the words each CI server uses.
public enum CIState: String, Sendable {
    case pending, success, failure, error

    /// GitHub's `state`: pending, success, failure, error.
    public var github: String { rawValue }

    /// GitLab's `state`: pending, running, success, failed, canceled.
    public var gitlab: String {
        switch self {
        case .pending: "running"
        case .success: "success"
        case .failure: "failed"
        case .error: "failed"
        }
    }
}
