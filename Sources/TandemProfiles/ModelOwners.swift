import TandemCore

/// The keys of a promotion policy that are written; the others keep their environment's value.
public struct PolicyOverrides: Sendable, Equatable {
    public var primaryMetric: String?
    public var minImprovement: Double?
    public var confidence: Double?
    public var bootstrapResamples: Int?
    public var seed: UInt64?
    public var minQueries: Int?
    public var guardrails: [Guardrail]?
    public var firstRelease: FirstReleaseRule?
    public var latencyBudgetMs: Double?

    /// Whether nothing is overridden.
    public var isEmpty: Bool { self == PolicyOverrides() }

    public init(
        primaryMetric: String? = nil, minImprovement: Double? = nil, confidence: Double? = nil, bootstrapResamples: Int? = nil,
        seed: UInt64? = nil, minQueries: Int? = nil, guardrails: [Guardrail]? = nil, firstRelease: FirstReleaseRule? = nil,
        latencyBudgetMs: Double? = nil
    ) {
        self.primaryMetric = primaryMetric
        self.minImprovement = minImprovement
        self.confidence = confidence
        self.bootstrapResamples = bootstrapResamples
        self.seed = seed
        self.minQueries = minQueries
        self.guardrails = guardrails
        self.firstRelease = firstRelease
        self.latencyBudgetMs = latencyBudgetMs
    }
}

extension PromotionPolicy {
    /// This policy with the written keys of `overrides` in place of its own.
    public func applying(_ overrides: PolicyOverrides) -> PromotionPolicy {
        var p = self
        if let v = overrides.primaryMetric { p.primaryMetric = v }
        if let v = overrides.minImprovement { p.minImprovement = v }
        if let v = overrides.confidence { p.confidence = v }
        if let v = overrides.bootstrapResamples { p.bootstrapResamples = v }
        if let v = overrides.seed { p.seed = v }
        if let v = overrides.minQueries { p.minQueries = v }
        if let v = overrides.guardrails { p.guardrails = v }
        if let v = overrides.firstRelease { p.firstRelease = v }
        if let v = overrides.latencyBudgetMs { p.latencyBudgetMs = v }
        return p
    }
}

/// Who owns a model (a model config's `owners:`; docs/models.md): its team, who approves its promotions, the policy
/// keys it sets for itself and the notifiers that hear of it. The promotion engine reads them from the model's
/// config **as the target's production branch holds it** (never from the branch under review), and applies them
/// over the target environment's rules: a model not yet on the production branch is judged by the environment's.
public struct ModelOwners: Sendable, Equatable {
    /// The owning team, for people (reports, `tandem models list`).
    public var team: String?
    /// Who approves this model's promotions, in place of the environment's `approvals.approvers`.
    public var approvers: [String]?
    /// How many of them must approve, in place of the environment's `approvals.required`.
    public var approvals: Int?
    /// Policy keys this model sets for itself.
    public var policy: PolicyOverrides
    /// The names of the environment's notifiers that report this model's promotions; nil for all of them.
    public var notify: [String]?

    public init(
        team: String? = nil, approvers: [String]? = nil, approvals: Int? = nil, policy: PolicyOverrides = PolicyOverrides(),
        notify: [String]? = nil
    ) {
        self.team = team
        self.approvers = approvers
        self.approvals = approvals
        self.policy = policy
        self.notify = notify
    }

    static func decode(_ node: YAMLTree, file: String) throws(ProfileError) -> ModelOwners {
        let reader = try MappingReader(node, path: "owners", allowed: ["team", "approvers", "approvals", "policy", "notify"])
        var owners = ModelOwners(team: try reader.string("team"))
        if reader.node("approvers") != nil { owners.approvers = try reader.stringList("approvers") }
        owners.approvals = try reader.int("approvals", range: 0...100)
        if let required = owners.approvals, let approvers = owners.approvers, required > approvers.count {
            throw ProfileError(
                location: reader.node("approvals")?.location ?? reader.location,
                problem: "owners.approvals is \(required) but only \(approvers.count) approvers are listed",
                fix: "list at least \(required) approvers under owners.approvers or lower owners.approvals")
        }
        if let policy = reader.node("policy") {
            var locations: [String: SourceLocation] = [:]
            owners.policy = try ProfileDecoder.decodePolicyOverrides(
                policy, path: "owners.policy", required: [], locations: &locations)
        }
        if reader.node("notify") != nil { owners.notify = try reader.stringList("notify") }
        return owners
    }
}

extension Profile {
    /// This environment's rules for one model: its owners' approvers, approvals, policy keys and notifiers over the
    /// environment's. `label` names where the owners were read, for the error when they name a notifier the
    /// environment does not have.
    public func applying(_ owners: ModelOwners?, model: String, label: String) throws(ProfileError) -> Profile {
        guard let owners else { return self }
        var p = self
        if let approvers = owners.approvers { p.approvals.approvers = approvers }
        if let required = owners.approvals { p.approvals.required = required }
        if p.approvals.required > p.approvals.approvers.count {
            throw ProfileError(
                location: SourceLocation(file: label, line: 1, column: 1),
                problem:
                    "\(model) needs \(p.approvals.required) approvals into \(name) (\(owners.approvals == nil ? "\(file): approvals.required" : "owners.approvals")) "
                    + "but owners.approvers lists \(p.approvals.approvers.count)",
                fix: "list more approvers under owners.approvers, or set owners.approvals")
        }
        p.policy = policy.applying(owners.policy)
        if let names = owners.notify {
            let known = Set(notifiers.map(\.name))
            if let unknown = names.first(where: { !known.contains($0) }) {
                throw ProfileError(
                    location: SourceLocation(file: label, line: 1, column: 1),
                    problem: "owners.notify of \(model) names '\(unknown)', which is not a notifier of \(name)",
                    fix: "name one of \(file)'s notifiers: " + notifiers.map(\.name).joined(separator: ", "))
            }
            p.notifiers = notifiers.filter { names.contains($0.name) }
        }
        return p
    }
}
