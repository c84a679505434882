import Foundation
import TandemCore
public import TandemLearning

/// The interactive view of a training: epoch, step, loss, validation NDCG@10 and MRR, examples/s and
/// time left, redrawn in place on the terminal (stderr) at most ten times a second.
public final class LiveTrainingView: @unchecked Sendable {
    private let maxEpochs: Int
    private var lines = 0
    private var last = ContinuousClock.now
    private var lastValidation: EpochRecord?
    private var bestNDCG = 0.0
    private let started = ContinuousClock.now
    private var history: [EpochRecord] = []

    public init(maxEpochs: Int) { self.maxEpochs = maxEpochs }

    public func handle(_ event: TrainingEvent) {
        switch event {
        case .step(let epoch, let step, let stepsPerEpoch, let loss, let rate):
            let now = ContinuousClock.now
            guard now - last > .milliseconds(100) else { return }
            last = now
            let stepInEpoch = (step - 1) % max(1, stepsPerEpoch) + 1
            let remainingSteps = Double(stepsPerEpoch - stepInEpoch + (maxEpochs - epoch) * stepsPerEpoch)
            let secondsPerStep = elapsed() / Double(max(1, step))
            draw(
                epoch: epoch, stepLine: "step \(stepInEpoch)/\(stepsPerEpoch)", loss: loss, rate: rate,
                left: remainingSteps * secondsPerStep)
        case .epoch(let record, let best):
            lastValidation = record
            history.append(record)
            if best { bestNDCG = record.metrics["ndcg@10"] ?? 0 }
            draw(epoch: record.epoch, stepLine: "epoch done", loss: record.loss, rate: record.examplesPerSecond, left: nil)
        }
    }

    private func elapsed() -> Double {
        let d = ContinuousClock.now - started
        return d.seconds
    }

    private func draw(epoch: Int, stepLine: String, loss: Double, rate: Double, left: Double?) {
        var text = ""
        if lines > 0 { text += "\u{1B}[\(lines)A" }
        let v = lastValidation
        let validation: String =
            v.map {
                String(
                    format: "validation (epoch %d): NDCG@10 %.4f   MRR %.4f   best NDCG@10 %.4f", $0.epoch,
                    $0.metrics["ndcg@10"] ?? 0, $0.metrics["mrr"] ?? 0, bestNDCG)
            } ?? "validation: after the first epoch"
        let timing: String =
            String(format: "loss %.4f   %.0f examples/s   elapsed %.0f s", loss, rate, elapsed())
            + (left.map { String(format: "   left ≈ %.0f s", $0) } ?? "")
        let rows: [String] = [
            "epoch \(epoch)/\(maxEpochs)   \(stepLine)",
            timing,
            validation,
            "curve NDCG@10: " + history.map { String(format: "%.3f", $0.metrics["ndcg@10"] ?? 0) }.joined(separator: " "),
            "Ctrl-C stops and keeps the best model so far",
        ]
        for row in rows { text += "\u{1B}[2K" + row + "\n" }
        lines = rows.count
        FileHandle.standardError.write(Data(text.utf8))
    }
}
