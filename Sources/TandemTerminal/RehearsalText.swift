import Foundation
public import TandemEnvironment
public import TandemLakehouse
import TandemPromotion

/// The ETL's and the local rehearsal's reports in words, as `tandem etl` and `tandem local test` print them.
public enum RehearsalText {
    /// ✓ passed, ✗ failed, – not run.
    public static func mark(_ status: String) -> String { status == "passed" ? "✓ " : status == "failed" ? "✗ " : "– " }

    /// A stage's line as `local test` notes it when the stage ends.
    public static func stageDone(_ line: LocalRehearsal.StageLine) -> String {
        mark(line.status) + line.stage.padding(toLength: 24, withPad: " ", startingAt: 0)
            + String(format: "%6.1f s  ", line.seconds) + line.result
    }

    /// The end of `local test`: each stage, the total, the decision report, failed tests, and where it all is.
    public static func summary(_ summary: LocalRehearsal.Summary) -> [String] {
        let (evaluated, local) = (summary.promotion, summary.folder)
        var lines = ["\n  STAGE                    SECONDS  RESULT"]
        for s in summary.stages {
            lines.append(
                mark(s.status) + s.stage.padding(toLength: 25, withPad: " ", startingAt: 0) + String(format: "%7.1f", s.seconds)
                    + "  " + s.result)
        }
        lines.append(String(format: "  total                    %7.1f", summary.seconds))
        if let report = evaluated.report { lines.append("\n" + report) }
        for t in evaluated.tests where !t.passed { lines.append("\nFAILED \(t.name): \(t.detail)") }
        lines += [
            "\nwritten under \(local):",
            "  test features  \(local)/test/features   (bronze, silver, gold \(summary.featureTable))",
            "  test registry  \(local)/test/registry   (run \(summary.runID.prefix(12)), \(summary.model), "
                + "promotion \(evaluated.id), report sha256:\((evaluated.reportDigest ?? "-").prefix(12))…)",
            "  prod registry  \(local)/prod/registry   (the local champion, if any)",
        ]
        return lines
    }

    /// `tandem etl`: the table registered, the input, silver, quarantine, duplicates, gold and the time it took.
    public static func etl(_ report: ETLReport, features: Int) -> [String] {
        let q = report.quarantine
        func counts(_ counts: [String: Int], _ prefix: String) -> String {
            let parts = counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            return "\(prefix): " + (parts.isEmpty ? "none" : parts.joined(separator: ", "))
        }
        return [
            "etl \(report.environment): \(report.featureTable)"
                + (report.featureTableUnchanged ? " (unchanged: same content as the latest version)" : " registered"),
            "  input      \(q.videos.linesTotal) video lines, \(q.judgments.linesTotal) judgment lines"
                + " (\(report.rows.bronzeLines) appended to bronze)",
            "  silver     \(report.rows.silverVideos) videos, \(report.rows.silverJudgments) judgments"
                + " (v\(report.silverVersion)\(report.silverUnchanged ? ", unchanged" : ""))",
            "  quarantine " + counts(q.judgments.quarantined, "judgments") + "; " + counts(q.videos.quarantined, "videos"),
            "  duplicates \(q.judgments.duplicatesDropped) judgments, \(q.videos.duplicatesDropped) videos dropped",
            "  gold       \(report.rows.goldRows) rows × \(features) features, digest \(report.featureTableDigest.prefix(12))…",
            "  took       \(String(format: "%.2f", (report.timingsMs["total"] ?? 0) / 1000)) s"
                + " (\(Int(report.rowsPerSecond)) lines/s)",
        ]
    }
}
