import Foundation
public import TandemRegistry

/// Tracked runs in words, as `tandem runs` prints them.
public enum RunText {
    /// `runs list`: a table, each run with its last held-out NDCG@10 (`ndcg`, by run id).
    public static func list(_ runs: [RunRecord], ndcg: [String: Double]) -> [String] {
        Terminal.table(
            [["RUN", "EXPERIMENT", "NAME", "STATUS", "STARTED", "NDCG@10", "FEATURES"]]
                + runs.map { r in
                    [
                        String(r.id.prefix(12)), r.experiment, r.name, r.status, r.startedAt,
                        ndcg[r.id].map { String(format: "%.4f", $0) } ?? "-", r.featureTable ?? "-",
                    ]
                })
    }

    /// `runs show`: the run's code, data, artifact, parameters and tags, then each metric's history.
    public static func show(_ r: RunRecord, history: [MetricPoint]) -> [String] {
        var lines = [
            "run \(r.id) (\(r.experiment) / \(r.name)): \(r.status)",
            "  started \(r.startedAt)" + (r.endedAt.map { ", ended \($0)" } ?? ""),
        ]
        if let p = r.parentID { lines.append("  parent  \(p)") }
        lines.append(
            "  code    \(r.gitCommit.map { String($0.prefix(12)) } ?? "-") on \(r.gitBranch ?? "-")"
                + (r.gitDirty == true ? " (dirty)" : ""))
        lines.append("  data    \(r.featureTable ?? "-") (\(r.dataDigest.map { String($0.prefix(12)) } ?? "-"))")
        if let a = r.artifactDigest { lines.append("  artifact sha256:\(a)") }
        lines += r.parameters.sorted(by: { $0.key < $1.key }).map { "  param   \($0.key) = \($0.value)" }
        lines += r.tags.sorted(by: { $0.key < $1.key }).map { "  tag     \($0.key) = \($0.value)" }
        for key in Set(history.map(\.key)).sorted() {
            let points = history.filter { $0.key == key }
            lines.append(
                "  metric  \(key): " + points.map { String(format: "%d:%.4f", $0.step, $0.value) }.joined(separator: " "))
        }
        return lines
    }

    /// `runs compare`: one column a run, one row a parameter or metric; rows whose values differ start with ≠.
    public static func comparison(_ columns: [RunComparisonColumn]) -> [String] {
        var rows: [[String]] = []
        func row(_ label: String, _ values: [String]) { rows.append([(Set(values).count > 1 ? "≠ " : "  ") + label] + values) }
        row("run", columns.map { String($0.run.prefix(12)) })
        for key in Set(columns.flatMap { $0.parameters.keys }).sorted() { row(key, columns.map { $0.parameters[key] ?? "-" }) }
        for key in Set(columns.flatMap { $0.metrics.keys }).sorted() {
            row(key, columns.map { $0.metrics[key].map { String(format: "%.4f", $0) } ?? "-" })
        }
        return Terminal.table(rows)
    }
}
