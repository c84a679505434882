import Foundation
import TandemLearning

/// A model scored on parts of a gold table's split (`tandem evaluate gold`): the means of every ranking metric
/// (docs/data-contract.md, "Ranking metrics"), and each query's values when asked.
public enum GoldEvaluation {
    /// What `tandem evaluate gold` prints.
    public struct Report: Encodable, Sendable {
        public var model: String
        public var featureTable: String
        public var split: String
        public var queries: Int
        /// Queries with a relevant item, which the means are over.
        public var evaluatedQueries: Int
        public var rows: Int
        public var metrics: [String: Double]
        public var perQuery: [QueryMetrics]?
        enum CodingKeys: String, CodingKey {
            case model, split, queries, rows, metrics
            case featureTable = "feature_table"
            case evaluatedQueries = "evaluated_queries"
            case perQuery = "per_query"
        }
    }

    /// One query's metrics (nil where undefined: no relevant item).
    public struct QueryMetrics: Encodable, Sendable {
        public var query: String
        public var part: String
        public var rows: Int
        public var metrics: [String: Double?]

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(query, forKey: Key("query"))
            try c.encode(part, forKey: Key("part"))
            try c.encode(rows, forKey: Key("rows"))
            var m = c.nestedContainer(keyedBy: Key.self, forKey: Key("metrics"))
            for name in RankingMetrics.names {
                if let v = metrics[name] ?? nil {
                    try m.encode(v, forKey: Key(name))
                } else {
                    try m.encodeNil(forKey: Key(name))
                }
            }
        }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ s: String) { stringValue = s }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    /// Scores `model` on the rows of `parts` of `inputs`' split.
    public static func evaluate(
        _ model: RankerModel, named name: String, on inputs: TrainingInputs, parts: [GoldSplit.Part], split: String,
        perQuery: Bool
    ) -> Report {
        let data = RankingDataset.concatenating(parts.map { inputs.split[$0] }, width: inputs.columns.count)
        let scores = Scorer(model: model, threads: 2).score(data.features, rows: data.rows)
        let evaluation = RankingMetrics.evaluate(groups: data.groups, labels: data.labels, scores: scores)
        let queries =
            perQuery
            ? (0..<data.groups.count).map { g in
                QueryMetrics(
                    query: data.groups.names[g], part: "\(GoldSplit.Part(query: data.groups.names[g]))",
                    rows: data.groups.range(g).count,
                    metrics: Dictionary(
                        uniqueKeysWithValues: RankingMetrics.names.map { ($0, evaluation.perQuery[$0]?[g] ?? nil) }))
            } : nil
        return Report(
            model: name, featureTable: inputs.table.reference, split: split, queries: data.groups.count,
            evaluatedQueries: evaluation.definedQueries, rows: data.rows, metrics: evaluation.means, perQuery: queries)
    }
}
