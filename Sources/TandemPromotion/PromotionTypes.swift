import Foundation
public import TandemCore

/// The states of a promotion (docs/architecture.md, "Promotion").
public enum PromotionState: String, Sendable, Codable, CaseIterable {
    case requested, testing, evaluating
    case awaitingApproval = "awaiting_approval"
    case promoting, promoted, failed, rejected
    case rolledBack = "rolled_back"

    /// States a promotion does not leave by itself.
    public var isFinal: Bool { [.promoted, .failed, .rejected, .rolledBack].contains(self) }

    /// The exit status a stage reports when a promotion stands in this state.
    public var exitStatus: ExitStatus {
        switch self {
        case .promoted, .rolledBack: .done
        case .failed, .rejected: .verdictNo
        case .awaitingApproval: .waiting
        default: .waiting
        }
    }
}

/// What an approval is bound to: if any part changes, the approval no longer counts.
public struct Evidence: Sendable, Codable, Equatable {
    public var commit: String
    public var modelDigest: String
    public var reportDigest: String

    enum CodingKeys: String, CodingKey {
        case commit
        case modelDigest = "model_digest"
        case reportDigest = "report_digest"
    }
}

/// A release manager's approval or rejection.
public struct ApprovalRecord: Sendable, Codable, Equatable {
    public var actor: String
    public var at: String
    public var approve: Bool
    public var reason: String?
    public var evidence: Evidence
    /// Where `actor` came from (docs/security.md, "Who approves"); nil in records older than the field (asserted).
    public var identity: IdentitySource?

    public init(
        actor: String, at: String, approve: Bool, reason: String?, evidence: Evidence, identity: IdentitySource? = nil
    ) {
        self.actor = actor
        self.at = at
        self.approve = approve
        self.reason = reason
        self.evidence = evidence
        self.identity = identity
    }
}

/// Where an approver's identity came from: the CI system's own record of who reviewed (verified), or what the
/// process was told (`TANDEM_ACTOR`, else the OS user: asserted).
public enum IdentitySource: String, Sendable, Codable, CaseIterable {
    /// GitHub's review history of the workflow run: the user who approved the deployment to the environment.
    case githubEnvironmentReview = "verified: github-environment-review"
    /// GitLab's record of who ran the manual job (`GITLAB_USER_LOGIN` in a job with `CI_JOB_MANUAL`).
    case gitlabManualJob = "verified: gitlab-manual-job"
    /// `TANDEM_ACTOR` or the OS user, as the process was told.
    case asserted = "asserted: local"

    /// Whether a CI system vouches for it.
    public var isVerified: Bool { self != .asserted }
}

/// One integration test's result.
public struct TestResult: Sendable, Codable, Equatable {
    public var name: String
    public var passed: Bool
    public var detail: String
    public var seconds: Double

    public init(name: String, passed: Bool, detail: String, seconds: Double) {
        self.name = name
        self.passed = passed
        self.detail = detail
        self.seconds = seconds
    }
}

/// A promotion of one (branch, model version) pair from one environment to another.
public struct Promotion: Sendable, Codable, Equatable {
    public var id: String
    public var source: String
    public var target: String
    public var branch: String
    public var commit: String
    public var model: String
    public var version: Int
    public var modelDigest: String
    public var requestedBy: String
    public var requestedAt: String
    public var state: PromotionState
    public var updatedAt: String
    public var tests: [TestResult]
    public var reportDigest: String?
    public var report: String?
    public var decision: String?
    public var approvals: [ApprovalRecord]
    /// What the promotion did in the target (filled while promoting): the copied version, the merge commit, the tag.
    public var targetVersion: Int?
    public var mergeCommit: String?
    public var previousBranchHead: String?
    public var previousChampion: Int?
    public var tag: String?
    public var reason: String?
    /// What the branch changes in its own copy of the target's profile, against the production side's (the one
    /// that judges it); nil when not compared (`tandem local test`).
    public var gateChanges: [String]?

    /// A promotion as it is requested; what the later steps fill in starts empty.
    public init(
        id: String, source: String, target: String, branch: String, commit: String, model: String, version: Int,
        modelDigest: String, requestedBy: String, requestedAt: String, state: PromotionState, updatedAt: String,
        tests: [TestResult], approvals: [ApprovalRecord]
    ) {
        self.id = id
        self.source = source
        self.target = target
        self.branch = branch
        self.commit = commit
        self.model = model
        self.version = version
        self.modelDigest = modelDigest
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
        self.state = state
        self.updatedAt = updatedAt
        self.tests = tests
        self.approvals = approvals
    }

    enum CodingKeys: String, CodingKey {
        case id, source, target, branch, commit, model, version, state, tests, decision, approvals, tag, reason, report
        case modelDigest = "model_digest"
        case requestedBy = "requested_by"
        case requestedAt = "requested_at"
        case updatedAt = "updated_at"
        case reportDigest = "report_digest"
        case targetVersion = "target_version"
        case mergeCommit = "merge_commit"
        case previousBranchHead = "previous_branch_head"
        case previousChampion = "previous_champion"
        case gateChanges = "gate_changes"
    }

    /// The evidence approvals are bound to now.
    public var evidence: Evidence { Evidence(commit: commit, modelDigest: modelDigest, reportDigest: reportDigest ?? "") }
}
