import Foundation
public import TandemLearning
public import TandemPipeline

/// A training in words, as `tandem train` prints it in batch mode.
public enum TrainingText {
    /// One epoch's line (batch mode, as CI logs show it).
    public static func epoch(_ r: EpochRecord, best: Bool) -> String {
        String(
            format: "epoch %d: loss %.4f, validation NDCG@10 %.4f, MRR %.4f, %.0f examples/s", r.epoch, r.loss,
            r.metrics["ndcg@10"] ?? 0, r.metrics["mrr"] ?? 0, r.examplesPerSecond) + (best ? " (best)" : "")
    }

    /// A sweep trial's one line.
    public static func trial(_ index: Int, _ result: TrainingSession.Result) -> String {
        "trial \(index + 1): run \(result.runID), "
            + String(format: "validation NDCG@10 %.4f", result.validationMetrics["ndcg@10"] ?? 0)
    }

    /// The end of a training: the run and version, the best epoch and its held-out metrics, the artifact, the
    /// numeric environment, the feature table and the lock file's commit.
    public static func result(_ result: TrainingSession.Result) -> [String] {
        var lines = [
            "run \(result.runID): \(result.model)"
                + (result.version.map { " version \($0) registered" } ?? " (not registered)")
                + (result.interrupted ? ", stopped by Ctrl-C (best model kept)" : ""),
            String(
                format: "  best epoch %d of %d (validation NDCG@10 %.4f); on %d test queries: NDCG@10 %.4f, MRR %.4f, MAP %.4f",
                result.bestEpoch, result.epochs, result.validationMetrics["ndcg@10"] ?? 0, result.testQueries,
                result.metrics["ndcg@10"] ?? 0, result.metrics["mrr"] ?? 0, result.metrics["map"] ?? 0),
            "  artifact sha256:\(result.digest)",
        ]
        let numeric = result.numericEnvironment
        lines.append("  trained with \(numeric.blas), core \(numeric.blasCore), \(numeric.threads) thread(s)")
        if let note = result.reproducibilityNote { lines.append("  note: \(note)") }
        lines.append("  trained on \(result.featureTable)" + (result.joinedTables ?? []).map { " + \($0)" }.joined())
        if let lock = result.lockFile, let commit = result.lockCommit {
            lines.append("  \(lock) committed as \(commit.prefix(12))")
        }
        return lines
    }
}
