import Foundation
import Testing

@testable import TandemLearning

@Suite("Ranking metrics")
struct MetricsTests {
    func metrics(_ labels: [Int8], _ scores: [Float]) -> [String: Double?] {
        scores.withUnsafeBufferPointer { RankingMetrics.perQuery(labels: labels, scores: $0) }
    }

    @Test("NDCG@k by hand: gains 2^l − 1, discounts log2(rank + 1)")
    func ndcgByHand() throws {
        // Ranked: labels 1, 3, 0, 2.
        let m = metrics([1, 3, 0, 2], [0.9, 0.8, 0.7, 0.6])
        let dcg: Double = 1.0 / log2(2.0) + 7.0 / log2(3.0) + 0.0 / log2(4.0) + 3.0 / log2(5.0)
        let idcg: Double = 7.0 / log2(2.0) + 3.0 / log2(3.0) + 1.0 / log2(4.0)
        #expect(abs(try #require(m["ndcg@10"] ?? nil) - dcg / idcg) < 1e-12)
        #expect(abs(try #require(m["ndcg@1"] ?? nil) - 1.0 / 7) < 1e-12)
        let top3: Double = (1.0 + 7.0 / log2(3.0)) / idcg
        #expect(abs(try #require(m["ndcg@3"] ?? nil) - top3) < 1e-12)
    }

    @Test("ties keep input order; a perfect ranking scores 1")
    func ties() throws {
        let tied: Double = (3.0 / log2(3.0)) / 3.0
        #expect(metrics([0, 2], [1, 1])["ndcg@10"] == .some(tied))
        #expect(metrics([2, 0], [1, 1])["ndcg@10"] == .some(1))
        #expect(metrics([3, 2, 1, 0], [4, 3, 2, 1])["ndcg@10"] == .some(1))
    }

    @Test("all-zero labels: undefined, left out of the means")
    func allZero() {
        let m = metrics([0, 0, 0], [1, 2, 3])
        #expect(m["ndcg@10"] == .some(nil))
        #expect(m["mrr"] == .some(nil))
        let groups = QueryGroups(names: ["a", "b"], starts: [0, 2, 4])
        let report = RankingMetrics.evaluate(groups: groups, labels: [0, 0, 1, 0], scores: [1, 2, 1, 2])
        #expect(report.perQuery["mrr"]?[0] == .some(nil))
        #expect(report.means["mrr"] == 0.5)
    }

    @Test("fewer than k results; MRR and MAP")
    func fewerThanK() throws {
        let m = metrics([0, 1, 2], [3, 2, 1])
        #expect(m["mrr"] == .some(0.5))
        let map = try #require(m["map"] ?? nil)
        let expectedMAP: Double = (1.0 / 2.0 + 2.0 / 3.0) / 2.0
        #expect(abs(map - expectedMAP) < 1e-12)
        let ideal: Double = 3.0 / log2(2.0) + 1.0 / log2(3.0)
        let dcg: Double = 1.0 / log2(3.0) + 3.0 / log2(4.0)
        let ndcg20 = try #require(m["ndcg@20"] ?? nil)
        #expect(abs(ndcg20 - dcg / ideal) < 1e-12)
    }
}

@Suite("The train/validation/test split")
struct GoldSplitRuleTests {
    @Test("fnv1a32(query) mod 5: 0 is test, 1 validation, 2–4 train (docs/data-contract.md's examples)")
    func buckets() {
        #expect(GoldSplit.Part(query: "a") == .test)
        #expect(GoldSplit.Part(query: "python tips") == .validation)
        #expect(GoldSplit.Part(query: "python") == .train)
    }
}
