import Foundation
import TandemFeatures
import TandemLakehouse
import Testing

@testable import TandemProfiles
@testable import TandemPromotion

/// The champion/challenger statistics checked against computations that do not share its code: cases whose
/// interval and decision follow by hand, a paired bootstrap written here from the definition, and a numpy
/// script (Tests/Reference/bootstrap_reference.py) with the same stream plus its own generator.
@Suite("Champion/challenger statistics")
struct ChampionChallengerTests {
    static func policy(
        minImprovement: Double = 0.005, confidence: Double = 0.95, resamples: Int = 10_000, seed: UInt64 = 20_261_128,
        minQueries: Int = 30, guardrails: [Guardrail] = [], firstRelease: FirstReleaseRule = .requireApproval
    ) -> PromotionPolicy {
        PromotionPolicy(
            primaryMetric: "ndcg@10", minImprovement: minImprovement, confidence: confidence, bootstrapResamples: resamples,
            seed: seed, minQueries: minQueries, guardrails: guardrails, firstRelease: firstRelease, latencyBudgetMs: 50)
    }

    static func decide(
        _ policy: PromotionPolicy, champion: [String: [Double?]]?, challenger: [String: [Double?]]
    ) -> ChampionChallenger.Report {
        func means(_ m: [String: [Double?]]) -> [String: Double] {
            m.mapValues { v in
                let x = v.compactMap { $0 }
                return x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count)
            }
        }
        return ChampionChallenger.decide(
            policy: policy, challenger: challenger, champion: champion, challengerMeans: means(challenger),
            championMeans: champion.map(means))
    }

    // MARK: Cases that follow by hand

    @Test("every difference equal: the interval is that one point, and the decision follows the threshold")
    func constantDifference() {
        // 0.5 and 0.75 are exact in binary, and so are their sums over 40 queries: the mean is exactly 0.25.
        let champion = [Double?](repeating: 0.5, count: 40)
        let challenger = [Double?](repeating: 0.75, count: 40)
        let c = ChampionChallenger.compare(
            metric: "ndcg@10", champion: champion, challenger: challenger, confidence: 0.95, resamples: 2000, seed: 1)
        #expect(c.queries == 40)
        #expect(c.meanDifference == 0.25 && c.lower == 0.25 && c.upper == 0.25)
        #expect(c.champion == 0.5 && c.challenger == 0.75)

        // The lower end equal to the required improvement passes (≥); a hair above it fails.
        let atThreshold = Self.decide(
            Self.policy(minImprovement: 0.25), champion: ["ndcg@10": champion], challenger: ["ndcg@10": challenger])
        #expect(atThreshold.decision == .pass)
        let above = Self.decide(
            Self.policy(minImprovement: 0.25.nextUp), champion: ["ndcg@10": champion], challenger: ["ndcg@10": challenger])
        #expect(above.decision == .fail, "\(above.reasons)")
        // No difference at all against a required improvement of 0: passes (0 ≥ 0).
        let same = Self.decide(Self.policy(minImprovement: 0), champion: ["ndcg@10": champion], challenger: ["ndcg@10": champion])
        #expect(same.decision == .pass && same.primary?.lower == 0 && same.primary?.upper == 0)
    }

    @Test("two queries, differences 0 and 1: the resample means are 0, ½ and 1, and the 95% interval is [0, 1]")
    func twoQueries() {
        let c = ChampionChallenger.compare(
            metric: "ndcg@10", champion: [0.25, 0], challenger: [0.25, 1], confidence: 0.95, resamples: 10_000, seed: 3)
        // P(mean = 0) = P(mean = 1) = ¼ > 2.5%, so both percentiles land on the extremes.
        #expect(c.queries == 2 && c.meanDifference == 0.5 && c.lower == 0 && c.upper == 1)
        // An interval that straddles the required improvement is inconclusive.
        let r = Self.decide(
            Self.policy(minImprovement: 0.5, minQueries: 2), champion: ["ndcg@10": [0.25, 0]],
            challenger: ["ndcg@10": [0.25, 1]])
        #expect(r.decision == .inconclusive)
        #expect(r.reasons.first?.contains("straddles") == true)
    }

    @Test("queries undefined on either side are left out of the pairs; too few queries is inconclusive")
    func pairsAndMinimum() {
        let champion: [Double?] = [0.5, nil, 0.5, 0.5]
        let challenger: [Double?] = [0.75, 0.75, nil, 0.75]
        let c = ChampionChallenger.compare(
            metric: "ndcg@10", champion: champion, challenger: challenger, confidence: 0.95, resamples: 100, seed: 9)
        #expect(c.queries == 2 && c.lower == 0.25 && c.upper == 0.25)
        let r = Self.decide(
            Self.policy(minImprovement: 0, minQueries: 3), champion: ["ndcg@10": champion], challenger: ["ndcg@10": challenger])
        #expect(r.decision == .inconclusive)
        #expect(r.primary?.queries == 2)
        #expect(r.reasons.first?.contains("only 2 ") == true, "\(r.reasons)")
    }

    @Test("a guardrail that falls by more than its bound fails a challenger that wins on the primary metric")
    func guardrail() {
        let champion: [String: [Double?]] = [
            "ndcg@10": .init(repeating: 0.5, count: 40), "mrr": .init(repeating: 0.75, count: 40),
        ]
        let better = champion.merging(["ndcg@10": .init(repeating: 0.75, count: 40)]) { $1 }
        // MRR down by 1/64 = 0.015625 against a bound of 0.01: broken; against 0.02: ok.
        let worseMRR = better.merging(["mrr": .init(repeating: 0.75 - 1.0 / 64, count: 40)]) { $1 }
        let broken = Self.decide(
            Self.policy(guardrails: [Guardrail(metric: "mrr", maxRegression: 0.01)]), champion: champion, challenger: worseMRR)
        #expect(broken.decision == .fail)
        #expect(broken.guardrails.map(\.ok) == [false])
        #expect(broken.guardrails.first?.comparison.meanDifference == -1.0 / 64)
        let ok = Self.decide(
            Self.policy(guardrails: [Guardrail(metric: "mrr", maxRegression: 0.02)]), champion: champion, challenger: worseMRR)
        #expect(ok.decision == .pass && ok.guardrails.map(\.ok) == [true])
    }

    @Test(
        "a first release follows the policy's rule, and is inconclusive below min_queries",
        arguments: [FirstReleaseRule.requireApproval, .pass, .refuse])
    func firstRelease(_ rule: FirstReleaseRule) {
        let challenger: [String: [Double?]] = ["ndcg@10": [0.5, 0.75, nil]]
        let r = Self.decide(Self.policy(minQueries: 2, firstRelease: rule), champion: nil, challenger: challenger)
        #expect(r.firstRelease && r.primary == nil)
        #expect(r.decision == (rule == .refuse ? .fail : .pass), "\(r.reasons)")
        let few = Self.decide(Self.policy(minQueries: 3, firstRelease: rule), champion: nil, challenger: challenger)
        #expect(few.decision == (rule == .refuse ? .fail : .inconclusive), "\(few.reasons)")
    }

    // MARK: Against an independent computation

    /// Per-query values of a champion and a challenger: `shift` better on average, with noise.
    static func sample(queries: Int, shift: Double, noise: Double, seed: UInt64, missing: Int = 0) -> ([Double?], [Double?]) {
        var rng = SplitMix64(seed: seed)
        var a: [Double?] = []
        var b: [Double?] = []
        for i in 0..<queries {
            let base = 0.3 + 0.6 * rng.unit()
            let other = min(1, max(0, base + shift + noise * rng.normal()))
            a.append(i < missing ? nil : base)
            b.append(i >= queries - missing ? nil : other)
        }
        return (a, b)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var queries: Int
        var shift: Double
        var noise: Double
        var seed: UInt64
        var confidence: Double = 0.95
        var resamples: Int = 10_000
        var missing: Int = 0
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "clearly better, 40 queries", queries: 40, shift: 0.05, noise: 0.04, seed: 11),
        Case(name: "about equal, 40 queries", queries: 40, shift: 0.004, noise: 0.05, seed: 12),
        Case(name: "worse, 60 queries", queries: 60, shift: -0.03, noise: 0.05, seed: 13),
        Case(
            name: "90% interval, some queries undefined", queries: 50, shift: 0.02, noise: 0.05, seed: 14, confidence: 0.9,
            missing: 3),
        Case(name: "too few queries", queries: 12, shift: 0.08, noise: 0.02, seed: 15, resamples: 999),
        Case(name: "many queries, odd resample count", queries: 400, shift: 0.006, noise: 0.03, seed: 16, resamples: 4001),
    ]

    /// The paired bootstrap from its definition, with the generator of TandemLakehouse (not the engine's copy).
    static func referenceInterval(
        champion: [Double?], challenger: [Double?], confidence: Double, resamples: Int, seed: UInt64
    ) -> (queries: Int, mean: Double, lower: Double, upper: Double) {
        let d = zip(champion, challenger).compactMap { a, b -> Double? in
            guard let a, let b else { return nil }
            return b - a
        }
        var rng = SplitMix64(seed: seed)
        var means: [Double] = []
        for _ in 0..<resamples {
            var sum = 0.0
            for _ in d { sum += d[Int(rng.next() % UInt64(d.count))] }
            means.append(sum / Double(d.count))
        }
        means.sort()
        let alpha = (1 - confidence) / 2
        let lo = Int((alpha * Double(resamples)).rounded(.down))
        let hi = Int(((1 - alpha) * Double(resamples)).rounded(.up)) - 1
        return (d.count, d.reduce(0, +) / Double(d.count), means[lo], means[hi])
    }

    @Test("the interval equals a bootstrap written from its definition", arguments: cases)
    func againstDefinition(_ c: Case) {
        let (a, b) = Self.sample(queries: c.queries, shift: c.shift, noise: c.noise, seed: c.seed, missing: c.missing)
        let got = ChampionChallenger.compare(
            metric: "ndcg@10", champion: a, challenger: b, confidence: c.confidence, resamples: c.resamples, seed: c.seed)
        let want = Self.referenceInterval(
            champion: a, challenger: b, confidence: c.confidence, resamples: c.resamples, seed: c.seed)
        #expect(got.queries == want.queries)
        #expect(abs(got.meanDifference - want.mean) < 1e-12)
        #expect(got.lower == want.lower && got.upper == want.upper, "got [\(got.lower), \(got.upper)], want \(want)")
    }

    /// Whether python3 with numpy is here; `TANDEM_REQUIRE_NUMPY=1` makes its absence a failure.
    static let numpyRequired = ProcessInfo.processInfo.environment["TANDEM_REQUIRE_NUMPY"] == "1"
    static let numpyAvailable: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import numpy"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Reference/bootstrap_reference.py").path

    @Test(
        "the interval and the decision equal numpy's computation, and agree with numpy's own bootstrap",
        .enabled(if: numpyAvailable || numpyRequired, "python3 with numpy is not installed (TANDEM_REQUIRE_NUMPY=1 requires it)"))
    func againstNumpy() throws {
        #expect(Self.numpyAvailable, "TANDEM_REQUIRE_NUMPY=1 but python3 cannot import numpy")
        let guardrail = Guardrail(metric: "mrr", maxRegression: 0.01)
        var inputs: [[String: Any]] = []
        var reports: [ChampionChallenger.Report] = []
        func values(_ v: [Double?]) -> [Any] { v.map { $0.map { $0 as Any } ?? NSNull() } }
        for c in Self.cases {
            let (a, b) = Self.sample(queries: c.queries, shift: c.shift, noise: c.noise, seed: c.seed, missing: c.missing)
            let (ma, mb) = Self.sample(queries: c.queries, shift: -0.006, noise: 0.02, seed: c.seed &+ 100)
            let policy = Self.policy(
                minImprovement: 0.005, confidence: c.confidence, resamples: c.resamples, seed: c.seed, minQueries: 30,
                guardrails: [guardrail])
            reports.append(Self.decide(policy, champion: ["ndcg@10": a, "mrr": ma], challenger: ["ndcg@10": b, "mrr": mb]))
            inputs.append([
                "champion": values(a), "challenger": values(b), "confidence": c.confidence, "resamples": c.resamples,
                "seed": c.seed, "min_improvement": policy.minImprovement, "min_queries": policy.minQueries,
                "guardrails": [
                    [
                        "metric": "mrr", "max_regression": guardrail.maxRegression, "champion": values(ma),
                        "challenger": values(mb),
                    ]
                ],
            ])
        }
        let input = try JSONSerialization.data(withJSONObject: ["cases": inputs])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(Self.script) failed")
        let doc = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        let results = try #require(doc["results"] as? [[String: Any]])
        try #require(results.count == Self.cases.count)
        var decisions: Set<String> = []
        for (c, (report, want)) in zip(Self.cases, zip(reports, results)) {
            let p = try #require(report.primary)
            #expect(p.queries == want["queries"] as? Int, "\(c.name)")
            let (mean, lo, hi) = (
                want["mean"] as? Double ?? .nan, want["lower"] as? Double ?? .nan, want["upper"] as? Double ?? .nan
            )
            #expect(abs(p.meanDifference - mean) < 1e-12, "\(c.name): mean \(p.meanDifference) vs numpy \(mean)")
            #expect(
                abs(p.lower - lo) < 1e-12 && abs(p.upper - hi) < 1e-12, "\(c.name): [\(p.lower), \(p.upper)] vs [\(lo), \(hi)]")
            #expect(report.decision.rawValue == want["decision"] as? String, "\(c.name): \(report.reasons)")
            let guardrails = want["guardrails"] as? [[String: Any]] ?? []
            #expect(report.guardrails.map(\.ok) == guardrails.map { $0["ok"] as? Bool ?? false }, "\(c.name)")
            // numpy's own generator and percentile: the same interval within Monte Carlo error (a few hundredths
            // of the standard error at 10,000 resamples; 0.25 standard errors leaves a wide margin).
            if let sigma = want["sigma"] as? Double, let ilo = want["independent_lower"] as? Double,
                let ihi = want["independent_upper"] as? Double
            {
                #expect(
                    abs(p.lower - ilo) < 0.25 * sigma && abs(p.upper - ihi) < 0.25 * sigma,
                    "\(c.name): [\(p.lower), \(p.upper)] vs numpy's [\(ilo), \(ihi)], σ \(sigma)")
            }
            decisions.insert(report.decision.rawValue)
        }
        // The cases exercise every outcome.
        #expect(decisions == ["pass", "fail", "inconclusive"])
    }
}
