import Foundation
public import TandemProfiles

/// The champion/challenger decision (docs/architecture.md, "Evaluating"): per-query differences of the primary metric
/// feed a seeded paired bootstrap over queries; the challenger passes when the lower end of the confidence
/// interval clears the required improvement, fails when the upper end does not reach it, and is
/// inconclusive in between or with too few queries. Guardrail metrics may not fall by more than their bound.
public enum ChampionChallenger {
    public enum Decision: String, Sendable, Codable { case pass, fail, inconclusive }

    /// One metric's comparison.
    public struct Comparison: Sendable, Codable, Equatable {
        public var metric: String
        public var champion: Double
        public var challenger: Double
        public var meanDifference: Double
        public var lower: Double
        public var upper: Double
        public var queries: Int

        enum CodingKeys: String, CodingKey {
            case metric, champion, challenger, lower, upper, queries
            case meanDifference = "mean_difference"
        }
    }

    /// A guardrail's verdict.
    public struct GuardrailResult: Sendable, Codable, Equatable {
        public var comparison: Comparison
        public var maxRegression: Double
        public var ok: Bool

        enum CodingKeys: String, CodingKey {
            case comparison, ok
            case maxRegression = "max_regression"
        }
    }

    /// The stored decision report.
    public struct Report: Sendable, Codable, Equatable {
        public var decision: Decision
        public var firstRelease: Bool
        public var primary: Comparison?
        public var guardrails: [GuardrailResult]
        public var required: Double
        public var confidence: Double
        public var resamples: Int
        public var seed: UInt64
        /// Absolute metrics of the challenger (all of them), for first releases and the record.
        public var challengerMetrics: [String: Double]
        public var championMetrics: [String: Double]?
        public var reasons: [String]

        enum CodingKeys: String, CodingKey {
            case decision, primary, guardrails, required, confidence, resamples, seed, reasons
            case firstRelease = "first_release"
            case challengerMetrics = "challenger_metrics"
            case championMetrics = "champion_metrics"
        }
    }

    /// Compares per-query values (aligned by query; nil where undefined) with a paired bootstrap.
    public static func compare(
        metric: String, champion: [Double?], challenger: [Double?], confidence: Double, resamples: Int,
        seed: UInt64
    ) -> Comparison {
        var a: [Double] = []
        var b: [Double] = []
        for (x, y) in zip(champion, challenger) {
            if let x, let y {
                a.append(x)
                b.append(y)
            }
        }
        let n = a.count
        let diffs = zip(b, a).map { $0 - $1 }
        let mean = n == 0 ? 0 : diffs.reduce(0, +) / Double(n)
        guard n > 0 else {
            return Comparison(metric: metric, champion: 0, challenger: 0, meanDifference: 0, lower: 0, upper: 0, queries: 0)
        }
        var state = seed
        var means = [Double](repeating: 0, count: resamples)
        diffs.withUnsafeBufferPointer { d in
            for r in 0..<resamples {
                var sum = 0.0
                for _ in 0..<n {
                    state &+= 0x9E37_79B9_7F4A_7C15
                    var z = state
                    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                    z ^= z >> 31
                    sum += d[Int(z % UInt64(n))]
                }
                means[r] = sum / Double(n)
            }
        }
        means.sort()
        let alpha = (1 - confidence) / 2
        let lo = means[max(0, min(resamples - 1, Int((alpha * Double(resamples)).rounded(.down))))]
        let hi = means[max(0, min(resamples - 1, Int(((1 - alpha) * Double(resamples)).rounded(.up)) - 1))]
        return Comparison(
            metric: metric, champion: a.reduce(0, +) / Double(n), challenger: b.reduce(0, +) / Double(n), meanDifference: mean,
            lower: lo, upper: hi, queries: n)
    }

    /// Decides with a policy. `champion` is nil for a first release.
    public static func decide(
        policy: PromotionPolicy, challenger: [String: [Double?]], champion: [String: [Double?]]?,
        challengerMeans: [String: Double], championMeans: [String: Double]?
    ) -> Report {
        var reasons: [String] = []
        guard let champion else {
            var decision: Decision
            switch policy.firstRelease {
            case .pass, .requireApproval: decision = .pass
            case .refuse: decision = .fail
            }
            let m = challengerMeans[policy.primaryMetric] ?? 0
            let queries = (challenger[policy.primaryMetric] ?? []).count { $0 != nil }
            reasons.append(
                "first release: no champion in prod; \(policy.primaryMetric) of the challenger is \(fmt(m)) on \(queries) test queries; "
                    + "policy first_release = \(policy.firstRelease.rawValue)"
                    + (policy.firstRelease == .requireApproval
                        ? " (a release manager must approve on these absolute metrics)" : ""))
            if decision == .pass && queries < policy.minQueries {
                decision = .inconclusive
                reasons.append(
                    "inconclusive — only \(queries) test queries with relevant results, at least \(policy.minQueries) needed")
            }
            return Report(
                decision: decision, firstRelease: true, primary: nil, guardrails: [], required: policy.minImprovement,
                confidence: policy.confidence, resamples: policy.bootstrapResamples, seed: policy.seed,
                challengerMetrics: challengerMeans,
                championMetrics: nil, reasons: reasons)
        }
        let primary = compare(
            metric: policy.primaryMetric, champion: champion[policy.primaryMetric] ?? [],
            challenger: challenger[policy.primaryMetric] ?? [],
            confidence: policy.confidence, resamples: policy.bootstrapResamples, seed: policy.seed)
        let pct = "\(Int((policy.confidence * 100).rounded()))%"
        var decision: Decision
        let line =
            "\(label(policy.primaryMetric)) \(signed(primary.meanDifference)), \(pct) CI [\(signed(primary.lower)), \(signed(primary.upper))], "
            + "required ≥ \(signed(policy.minImprovement))"
        if primary.queries < policy.minQueries {
            decision = .inconclusive
            reasons.append(
                "\(line): inconclusive — only \(primary.queries) test queries with relevant results, at least \(policy.minQueries) needed"
            )
        } else if primary.lower >= policy.minImprovement {
            decision = .pass
            reasons.append("\(line): pass")
        } else if primary.upper < policy.minImprovement {
            decision = .fail
            reasons.append("\(line): fail — the challenger does not beat the champion by the required margin")
        } else {
            decision = .inconclusive
            reasons.append("\(line): inconclusive — the interval straddles the required improvement")
        }
        var guardrails: [GuardrailResult] = []
        for g in policy.guardrails {
            let c = compare(
                metric: g.metric, champion: champion[g.metric] ?? [], challenger: challenger[g.metric] ?? [],
                confidence: policy.confidence,
                resamples: policy.bootstrapResamples, seed: policy.seed &+ 1)
            let ok = c.meanDifference >= -g.maxRegression
            guardrails.append(GuardrailResult(comparison: c, maxRegression: g.maxRegression, ok: ok))
            reasons.append(
                "\(label(g.metric)) \(signed(c.meanDifference)) (\(pct) CI [\(signed(c.lower)), \(signed(c.upper))]) "
                    + (ok ? "within −\(fmt(g.maxRegression)): ok" : "beyond −\(fmt(g.maxRegression)): guardrail broken"))
            if !ok { decision = .fail }
        }
        return Report(
            decision: decision, firstRelease: false, primary: primary, guardrails: guardrails, required: policy.minImprovement,
            confidence: policy.confidence, resamples: policy.bootstrapResamples, seed: policy.seed,
            challengerMetrics: challengerMeans,
            championMetrics: championMeans, reasons: reasons)
    }

    static func label(_ metric: String) -> String { metric.uppercased().replacingOccurrences(of: "NDCG", with: "NDCG") }
    static func fmt(_ v: Double) -> String { String(format: "%.3f", v) }
    static func signed(_ v: Double) -> String { (v >= 0 ? "+" : "−") + String(format: "%.3f", abs(v)) }

    /// The report as a release manager reads it.
    public static func render(_ r: Report, champion: String?, challenger: String) -> String {
        var lines: [String] = []
        lines.append(
            "Decision: \(r.decision.rawValue.uppercased())   challenger \(challenger)"
                + (champion.map { " vs champion \($0)" } ?? " (first release)"))
        if let p = r.primary {
            lines.append(
                "  \(label(p.metric)) on \(p.queries) held-out test queries: "
                    + String(format: "champion %.4f, challenger %.4f", p.champion, p.challenger))
        }
        for reason in r.reasons { lines.append("  • " + reason) }
        lines.append("  bootstrap: \(r.resamples) paired resamples over queries, seed \(r.seed)")
        let names = r.challengerMetrics.keys.sorted()
        lines.append(
            "  " + "metric".padding(toLength: 9, withPad: " ", startingAt: 0) + (r.championMetrics == nil ? "" : " champion ")
                + "challenger")
        for n in names {
            lines.append(
                "  " + n.padding(toLength: 9, withPad: " ", startingAt: 0)
                    + (r.championMetrics.map { String(format: " %.4f   ", $0[n] ?? 0) } ?? "")
                    + String(format: "%.4f", r.challengerMetrics[n] ?? 0))
        }
        return lines.joined(separator: "\n")
    }
}
