public import TandemCore

/// One environment's profile (`environments/NAME.yaml`), loaded, merged with what it extends, and checked.
///
/// A profile names the environment's own roots, its production git branch, how it reports to CI and the
/// teams, who approves promotions into it, and the promotion policy. Secrets are never in a profile: it
/// names the environment variable that holds each one (keys ending in `_env`).
public struct Profile: Sendable, Equatable {
    /// The environment's name: the file's base name (`test` for `environments/test.yaml`).
    public var name: String
    /// One line on what the environment is for.
    public var description: String
    /// The file the profile was read from, relative to the repository root.
    public var file: String
    /// The profile this one extends, if any.
    public var extends: String?
    /// The three roots.
    public var roots: Roots
    /// Git settings: the production branch and the remote promotions publish to.
    public var git: GitSettings
    /// Data settings: the sample input integration tests use, and the default feature set.
    public var data: DataSettings
    /// True when only the promotion engine may write this environment's registry (prod).
    public var protected: Bool
    /// Where a promotion out of this environment goes (`prod` for `test`), if anywhere.
    public var promotesTo: String?
    /// The CI status reporter.
    public var reporter: ReporterSettings
    /// The team notifiers.
    public var notifiers: [NotifierSettings]
    /// Who approves promotions into this environment, and how many approvals are needed.
    public var approvals: ApprovalSettings
    /// The champion/challenger policy for promotions into this environment.
    public var policy: PromotionPolicy
    /// Where each key was written, for messages that point back into the file (`roots.registry` → file:line:col).
    public var locations: [String: SourceLocation]

    /// Every environment variable the profile names for a secret, with the key that names it.
    public var secretVariables: [(key: String, variable: String)] {
        var out: [(String, String)] = []
        for (key, root) in [("roots.state", roots.state), ("roots.features", roots.features)] {
            if case .postgres(let url)? = root, let v = try? PostgresLocation.parse(url).passwordEnv {
                out.append(("\(key) password_env", v))
            }
        }
        if let v = reporter.tokenEnv { out.append(("reporter.token_env", v)) }
        if let v = reporter.secretEnv { out.append(("reporter.secret_env", v)) }
        if let v = reporter.urlEnv { out.append(("reporter.url_env", v)) }
        for (i, n) in notifiers.enumerated() {
            if let v = n.urlEnv { out.append(("notifiers[\(i)].url_env", v)) }
            if let v = n.secretEnv { out.append(("notifiers[\(i)].secret_env", v)) }
        }
        return out
    }

    public static func == (a: Profile, b: Profile) -> Bool {
        a.name == b.name && a.file == b.file && a.roots == b.roots && a.git == b.git && a.data == b.data
            && a.protected == b.protected && a.promotesTo == b.promotesTo && a.reporter == b.reporter
            && a.notifiers == b.notifiers && a.approvals == b.approvals && a.policy == b.policy
    }
}

/// The roots of one environment (docs/architecture.md, "Environments and roots").
public struct Roots: Sendable, Equatable {
    /// Bronze/silver/gold tables and the feature registry.
    public var features: RootURL
    /// Tracked runs, model versions, aliases, lineage, the outbox and the audit log.
    public var registry: RootURL
    /// Where stage jobs run.
    public var compute: RootURL
    /// Promotions, their journal, approvals and locks, and the webhook outbox (`roots.state`): nil keeps them in the
    /// registry's `file://` root; an MLflow registry's default is `file://.tandem/ENV/state`.
    public var state: RootURL?

    public init(features: RootURL, registry: RootURL, compute: RootURL, state: RootURL? = nil) {
        self.features = features
        self.registry = registry
        self.compute = compute
        self.state = state
    }
}

/// Git settings of an environment.
public struct GitSettings: Sendable, Equatable {
    /// The branch that is production for this environment.
    public var productionBranch: String
    /// The remote that promotions push to atomically, if any.
    public var remote: String?
    /// The prefix of the tags promotions write (`tandem/prod`).
    public var tagPrefix: String
}

/// Data settings of an environment.
public struct DataSettings: Sendable, Equatable {
    /// The raw input the integration tests run the ETL on (a folder with videos.jsonl and judgments.jsonl).
    public var sampleInput: String
    /// The feature set the ETL builds by default.
    public var featureSet: String
}

/// Which CI status API a reporter talks to.
public enum ReporterKind: String, Sendable, CaseIterable {
    case github, gitlab, generic, none
}

/// The CI status reporter of an environment.
public struct ReporterSettings: Sendable, Equatable {
    public var kind: ReporterKind
    /// API base URL (`https://api.github.com`, `https://gitlab.example/api/v4`).
    public var api: String?
    /// `OWNER/REPO` on GitHub.
    public var repository: String?
    /// The project id or path on GitLab.
    public var project: String?
    /// The status context (`tandem/promotion/prod`).
    public var context: String?
    /// The link shown with each status.
    public var targetURL: String?
    /// The endpoint of a generic reporter, when it is not secret.
    public var url: String?
    /// The variable holding the endpoint of a generic reporter, when it is secret.
    public var urlEnv: String?
    /// The variable holding the API token.
    public var tokenEnv: String?
    /// The variable holding the signing secret of a generic reporter (`whsec_…`).
    public var secretEnv: String?

    public init(
        kind: ReporterKind, api: String? = nil, repository: String? = nil, project: String? = nil, context: String? = nil,
        targetURL: String? = nil, url: String? = nil, urlEnv: String? = nil, tokenEnv: String? = nil, secretEnv: String? = nil
    ) {
        self.kind = kind
        self.api = api
        self.repository = repository
        self.project = project
        self.context = context
        self.targetURL = targetURL
        self.url = url
        self.urlEnv = urlEnv
        self.tokenEnv = tokenEnv
        self.secretEnv = secretEnv
    }
}

/// Which chat or event format a notifier speaks.
public enum NotifierKind: String, Sendable, CaseIterable {
    case slack, generic
}

/// A team notifier.
public struct NotifierSettings: Sendable, Equatable {
    public var name: String
    public var kind: NotifierKind
    /// The endpoint, when it is not secret (generic only).
    public var url: String?
    /// The variable holding the endpoint (a Slack incoming-webhook URL is itself a secret).
    public var urlEnv: String?
    /// The variable holding the signing secret (generic).
    public var secretEnv: String?
    /// The events it subscribes to.
    public var events: [String]

    public init(name: String, kind: NotifierKind, url: String?, urlEnv: String?, secretEnv: String?, events: [String]) {
        self.name = name
        self.kind = kind
        self.url = url
        self.urlEnv = urlEnv
        self.secretEnv = secretEnv
        self.events = events
    }
}

/// Approvals needed for a promotion into an environment.
public struct ApprovalSettings: Sendable, Equatable {
    /// How many distinct approvers must approve.
    public var required: Int
    /// Who may approve (CI identities or OS users).
    public var approvers: [String]
    /// Only identities a CI system vouches for may approve or reject (`approvals.require_verified`): GitHub's
    /// environment review, GitLab's manual job; never `TANDEM_ACTOR` alone.
    public var requireVerified: Bool = false
}

/// A guardrail: a metric that may not regress by more than a bound.
public struct Guardrail: Sendable, Equatable {
    public var metric: String
    public var maxRegression: Double
}

/// What happens when there is no champion yet.
public enum FirstReleaseRule: String, Sendable, CaseIterable {
    /// The challenger needs an approval, with its absolute metrics shown.
    case requireApproval = "require_approval"
    /// The challenger passes evaluation outright (approval still applies).
    case pass
    /// The promotion is refused until a champion is put in place by other means.
    case refuse
}

/// The champion/challenger policy (docs/architecture.md, "Evaluating").
public struct PromotionPolicy: Sendable, Equatable {
    public var primaryMetric: String
    public var minImprovement: Double
    public var confidence: Double
    public var bootstrapResamples: Int
    public var seed: UInt64
    public var minQueries: Int
    public var guardrails: [Guardrail]
    public var firstRelease: FirstReleaseRule
    /// The p99 latency budget of one inference request, in milliseconds.
    public var latencyBudgetMs: Double
}

/// The events notifiers can subscribe to.
public let promotionEvents: [String] = [
    "promotion.requested", "promotion.tests_failed", "promotion.evaluated", "promotion.awaiting_approval",
    "promotion.approved", "promotion.rejected", "promotion.promoted", "promotion.rolled_back", "promotion.failed",
]

/// The metrics a policy can name.
public let knownMetrics: [String] = [
    "ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10", "ndcg@20", "mrr", "map",
]
