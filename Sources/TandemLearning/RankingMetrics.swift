import Foundation

/// Ranking metrics per query and overall: NDCG@k (gain 2^label − 1, discount log2(rank + 1)), MRR and MAP
/// (an item is relevant when its label is ≥ 1).
///
/// Items are ranked by score, highest first; equal scores keep their input order, so a metric never depends
/// on a sort's whims. A query with no relevant item has no defined value (nil) and is left out of the means:
/// no ordering of it can be better or worse than another.
public enum RankingMetrics {
    /// The metric names Tandem knows, in report order.
    public static let names = ["ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10", "ndcg@20", "mrr", "map"]

    /// The ranking of `scores` (indices, best first; ties in input order).
    public static func ranking(_ scores: UnsafeBufferPointer<Float>) -> [Int] {
        Array(0..<scores.count).sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
    }

    /// NDCG@k of one query.
    public static func ndcg(labels: [Int8], ranking: [Int], k: Int) -> Double? {
        guard labels.contains(where: { $0 > 0 }) else { return nil }
        func gain(_ l: Int8) -> Double { pow(2, Double(l)) - 1 }
        var dcg = 0.0
        for (i, item) in ranking.prefix(k).enumerated() { dcg += gain(labels[item]) / log2(Double(i) + 2) }
        var idcg = 0.0
        for (i, l) in labels.sorted(by: >).prefix(k).enumerated() { idcg += gain(l) / log2(Double(i) + 2) }
        return dcg / idcg
    }

    /// Reciprocal rank of the first relevant item.
    public static func reciprocalRank(labels: [Int8], ranking: [Int]) -> Double? {
        guard let first = ranking.firstIndex(where: { labels[$0] >= 1 }) else { return nil }
        return 1 / Double(first + 1)
    }

    /// Average precision over the relevant items.
    public static func averagePrecision(labels: [Int8], ranking: [Int]) -> Double? {
        let relevant = labels.filter { $0 >= 1 }.count
        guard relevant > 0 else { return nil }
        var hits = 0
        var sum = 0.0
        for (i, item) in ranking.enumerated() where labels[item] >= 1 {
            hits += 1
            sum += Double(hits) / Double(i + 1)
        }
        return sum / Double(relevant)
    }

    /// Every metric of one query, by name (nil where undefined).
    public static func perQuery(labels: [Int8], scores: UnsafeBufferPointer<Float>) -> [String: Double?] {
        let r = ranking(scores)
        return [
            "ndcg@1": ndcg(labels: labels, ranking: r, k: 1), "ndcg@3": ndcg(labels: labels, ranking: r, k: 3),
            "ndcg@5": ndcg(labels: labels, ranking: r, k: 5), "ndcg@10": ndcg(labels: labels, ranking: r, k: 10),
            "ndcg@20": ndcg(labels: labels, ranking: r, k: 20), "mrr": reciprocalRank(labels: labels, ranking: r),
            "map": averagePrecision(labels: labels, ranking: r),
        ]
    }

    /// Per-query values of every metric over a set of query groups, and their means.
    public struct Report: Sendable, Codable {
        /// Queries, in group order.
        public var queries: [String]
        /// Per metric, the value of each query (nil where undefined), aligned with `queries`.
        public var perQuery: [String: [Double?]]
        /// Per metric, the mean over queries where it is defined.
        public var means: [String: Double]

        /// Queries with at least one relevant item: those every metric is defined on and the means are over.
        public var definedQueries: Int { (perQuery["ndcg@10"] ?? []).count { $0 != nil } }
    }

    /// Evaluates scores against labels for every query group.
    public static func evaluate(groups: QueryGroups, labels: [Int8], scores: [Float]) -> Report {
        var per: [String: [Double?]] = Dictionary(uniqueKeysWithValues: names.map { ($0, []) })
        scores.withUnsafeBufferPointer { all in
            for g in 0..<groups.count {
                let range = groups.range(g)
                let values = perQuery(labels: Array(labels[range]), scores: UnsafeBufferPointer(rebasing: all[range]))
                for name in names { per[name, default: []].append(values[name] ?? nil) }
            }
        }
        var means: [String: Double] = [:]
        for name in names {
            let defined = (per[name] ?? []).compactMap { $0 }
            means[name] = defined.isEmpty ? 0 : defined.reduce(0, +) / Double(defined.count)
        }
        return Report(queries: groups.names, perQuery: per, means: means)
    }
}

/// Rows grouped by query: group `g` is rows `starts[g] ..< starts[g + 1]` of a table sorted by query.
public struct QueryGroups: Sendable {
    public var names: [String]
    public var starts: [Int]

    public var count: Int { names.count }
    public func range(_ g: Int) -> Range<Int> { starts[g]..<starts[g + 1] }

    /// Groups consecutive equal queries.
    public init(queries: [String]) {
        var names: [String] = []
        var starts: [Int] = []
        for (i, q) in queries.enumerated() where i == 0 || queries[i - 1] != q {
            names.append(q)
            starts.append(i)
        }
        starts.append(queries.count)
        self.names = names
        self.starts = starts
    }

    public init(names: [String], starts: [Int]) {
        self.names = names
        self.starts = starts
    }
}
