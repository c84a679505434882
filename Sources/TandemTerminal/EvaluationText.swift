import Foundation
import TandemLearning
public import TandemPipeline

/// An offline evaluation in words, as `tandem evaluate gold` prints it.
public enum EvaluationText {
    /// The report's means, one metric a line, then (when it has them) each query's values in a table.
    public static func gold(_ report: GoldEvaluation.Report) -> [String] {
        var lines = [
            "\(report.model) on \(report.featureTable) (\(report.split) queries: \(report.queries), "
                + "\(report.evaluatedQueries) with a relevant item; rows: \(report.rows))"
        ]
        for name in RankingMetrics.names {
            lines.append(
                "  " + name.padding(toLength: 8, withPad: " ", startingAt: 0) + String(format: "%.4f", report.metrics[name] ?? 0))
        }
        guard let queries = report.perQuery else { return lines }
        lines.append(
            "\nQUERY" + String(repeating: " ", count: 35) + "PART        "
                + RankingMetrics.names.map { $0.padding(toLength: 8, withPad: " ", startingAt: 0) }.joined())
        for q in queries {
            let label = q.query.count > 38 ? String(q.query.prefix(37)) + "…" : q.query
            lines.append(
                label.padding(toLength: 40, withPad: " ", startingAt: 0)
                    + q.part.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + RankingMetrics.names.map {
                        ((q.metrics[$0] ?? nil).map { String(format: "%.4f", $0) } ?? "-").padding(
                            toLength: 8, withPad: " ", startingAt: 0)
                    }.joined())
        }
        return lines
    }
}
