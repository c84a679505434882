import Foundation
import TandemCore
public import TandemEnvironment
public import TandemProfiles

/// How `tandem train --sweep` shows a finished sweep.
public enum SweepView {
    /// Prints the report (JSON, or the trials' table and how to train the best), and fails when no trial finished.
    public static func show(_ report: SweepRunner.Report, spec: SweepSpec, context: StageContext, json: Bool) throws {
        let done = report.trials
        let best = done.first { $0.number == report.best }
        if json {
            try Terminal.printJSON(report)
        } else {
            print(
                "\nTRIAL  " + spec.metric.padding(toLength: 9, withPad: " ", startingAt: 0) + "  MRR      RUN           OVERRIDES"
            )
            for t in done {
                let mark = t.number == best?.number ? "*" : " "
                print(
                    mark + String(t.number).padding(toLength: 6, withPad: " ", startingAt: 0)
                        + (t.metric.map { String(format: "%.4f", $0) } ?? "failed").padding(
                            toLength: 11, withPad: " ", startingAt: 0)
                        + (t.metrics["mrr"].map { String(format: "%.4f", $0) } ?? "-").padding(
                            toLength: 9, withPad: " ", startingAt: 0)
                        + String((t.runID ?? "-").prefix(12)).padding(toLength: 14, withPad: " ", startingAt: 0)
                        + t.overrides.joined(separator: " "))
            }
            if let best {
                print(
                    "\nbest: trial \(best.number); train it with: tandem train --env \(context.profile.name) "
                        + best.overrides.map { "--set '\($0)'" }.joined(separator: " "))
            }
        }
        if best == nil { throw Failure(.refused, "every trial failed; see the errors above") }
    }
}
