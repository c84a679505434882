import TandemCore
public import TandemProfiles

/// A profile as `tandem env show --json` prints it: resolved, with secrets shown only by the variable
/// that holds them.
public struct ProfileView: Encodable {
    public struct RootView: Encodable {
        public var url: String
        public var scheme: String
        public var path: String?
    }

    public var name: String
    public var description: String
    public var file: String
    public var extends: String?
    public var roots: [String: RootView]
    public var git: [String: String?]
    public var data: [String: String]
    public var protected: Bool
    public var promotesTo: String?
    public var reporter: [String: String?]
    public var notifiers: [[String: String?]]
    public var notifierEvents: [String: [String]]
    public var approvals: Approvals
    public var policy: Policy
    public var secrets: [String: String]

    public struct Approvals: Encodable {
        public var required: Int
        public var approvers: [String]
    }

    public struct Policy: Encodable {
        public var primaryMetric: String
        public var minImprovement: Double
        public var confidence: Double
        public var bootstrapResamples: Int
        public var seed: UInt64
        public var minQueries: Int
        public var guardrails: [[String: String]]
        public var firstRelease: String
        public var latencyBudgetMs: Double

        enum CodingKeys: String, CodingKey {
            case primaryMetric = "primary_metric"
            case minImprovement = "min_improvement"
            case confidence
            case bootstrapResamples = "bootstrap_resamples"
            case seed
            case minQueries = "min_queries"
            case guardrails
            case firstRelease = "first_release"
            case latencyBudgetMs = "latency_budget_ms"
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, description, file, extends, roots, git, data, protected
        case promotesTo = "promotes_to"
        case reporter, notifiers
        case notifierEvents = "notifier_events"
        case approvals, policy
        case secrets = "secret_variables"
    }

    public init(_ p: Profile, set: ProfileSet) {
        name = p.name
        description = p.description
        file = p.file
        extends = p.extends
        func view(_ r: RootURL) -> RootView { RootView(url: r.description, scheme: r.scheme, path: set.absolutePath(of: r)) }
        roots = ["features": view(p.roots.features), "registry": view(p.roots.registry), "compute": view(p.roots.compute)]
        if let state = p.roots.state { roots["state"] = view(state) }
        git = ["production_branch": p.git.productionBranch, "remote": p.git.remote, "tag_prefix": p.git.tagPrefix]
        data = ["sample_input": p.data.sampleInput, "feature_set": p.data.featureSet]
        protected = p.protected
        promotesTo = p.promotesTo
        reporter = [
            "kind": p.reporter.kind.rawValue, "api": p.reporter.api, "repository": p.reporter.repository,
            "project": p.reporter.project, "context": p.reporter.context, "target_url": p.reporter.targetURL,
            "url": p.reporter.url, "url_env": p.reporter.urlEnv, "token_env": p.reporter.tokenEnv,
            "secret_env": p.reporter.secretEnv,
        ]
        notifiers = p.notifiers.map {
            ["name": $0.name, "kind": $0.kind.rawValue, "url": $0.url, "url_env": $0.urlEnv, "secret_env": $0.secretEnv]
        }
        notifierEvents = Dictionary(p.notifiers.map { ($0.name, $0.events) }, uniquingKeysWith: { a, _ in a })
        approvals = Approvals(required: p.approvals.required, approvers: p.approvals.approvers)
        policy = Policy(
            primaryMetric: p.policy.primaryMetric, minImprovement: p.policy.minImprovement, confidence: p.policy.confidence,
            bootstrapResamples: p.policy.bootstrapResamples, seed: p.policy.seed, minQueries: p.policy.minQueries,
            guardrails: p.policy.guardrails.map { ["metric": $0.metric, "max_regression": String($0.maxRegression)] },
            firstRelease: p.policy.firstRelease.rawValue, latencyBudgetMs: p.policy.latencyBudgetMs)
        secrets = Dictionary(p.secretVariables.map { ($0.key, $0.variable) }, uniquingKeysWith: { a, _ in a })
    }
}
