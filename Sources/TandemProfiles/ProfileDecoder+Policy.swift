import TandemCore

/// `policy:`: the promotion policy, and a model's overrides of it.
extension ProfileDecoder {
    static func decodePolicy(_ node: YAMLTree, locations: inout [String: SourceLocation]) throws(ProfileError) -> PromotionPolicy
    {
        let o = try decodePolicyOverrides(
            node, path: "policy", required: ["primary_metric", "min_improvement", "confidence"], locations: &locations)
        guard let metric = o.primaryMetric else {
            throw ProfileError(
                location: node.location, problem: "policy.primary_metric is empty",
                fix: "name the metric the policy decides on, such as `primary_metric: ndcg@10`")
        }
        return PromotionPolicy(
            primaryMetric: metric, minImprovement: o.minImprovement ?? 0, confidence: o.confidence ?? 0.95,
            bootstrapResamples: o.bootstrapResamples ?? 10_000, seed: o.seed ?? 20_261_128, minQueries: o.minQueries ?? 30,
            guardrails: o.guardrails ?? [], firstRelease: o.firstRelease ?? .requireApproval,
            latencyBudgetMs: o.latencyBudgetMs ?? 50)
    }

    /// The keys of a policy mapping that are written, each checked (an environment's `policy`, or a model's
    /// `owners.policy`, which overrides some of its environment's).
    static func decodePolicyOverrides(
        _ node: YAMLTree, path: String, required: [String], locations: inout [String: SourceLocation]
    ) throws(ProfileError) -> PolicyOverrides {
        let reader = try MappingReader(
            node, path: path,
            allowed: [
                "primary_metric", "min_improvement", "confidence", "bootstrap_resamples", "seed", "min_queries",
                "guardrails", "first_release", "latency_budget_ms",
            ],
            required: required)
        locations.merge(reader.locations) { $1 }
        let metric = try reader.string("primary_metric")
        if let metric { try checkMetric(metric, node: reader.node("primary_metric"), reader: reader) }
        var guardrails: [Guardrail]?
        if reader.node("guardrails") != nil {
            guardrails = []
            for (index, item) in try reader.list("guardrails").enumerated() {
                let g = try MappingReader(
                    item, path: "\(path).guardrails[\(index)]", allowed: ["metric", "max_regression"],
                    required: ["metric", "max_regression"])
                let name = try g.requiredString("metric")
                try checkMetric(name, node: g.node("metric"), reader: g)
                guardrails?.append(Guardrail(metric: name, maxRegression: try g.double("max_regression", range: 0...1) ?? 0))
            }
        }
        return PolicyOverrides(
            primaryMetric: metric,
            minImprovement: try reader.double("min_improvement", range: -1...1),
            confidence: try reader.double("confidence", range: 0.5...0.9999),
            bootstrapResamples: try reader.int("bootstrap_resamples", range: 100...1_000_000),
            seed: try reader.int("seed", range: 0...Int.max).map { UInt64($0) },
            minQueries: try reader.int("min_queries", range: 1...1_000_000),
            guardrails: guardrails,
            firstRelease: try reader.choice("first_release", FirstReleaseRule.self),
            latencyBudgetMs: try reader.double("latency_budget_ms", range: 0.001...60_000))
    }

    static func checkMetric(_ name: String, node: YAMLTree?, reader: MappingReader) throws(ProfileError) {
        guard knownMetrics.contains(name) else {
            let hint = didYouMean(name, among: knownMetrics).map { " (did you mean '\($0)'?)" } ?? ""
            throw ProfileError(
                location: node?.location ?? reader.location, problem: "unknown metric '\(name)'\(hint)",
                fix: "use one of: " + knownMetrics.joined(separator: ", "))
        }
    }
}
