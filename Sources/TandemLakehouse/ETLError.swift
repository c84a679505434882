import TandemCore
import TandemFeatures

/// An ETL run that reads its input but has nothing it may register.
public enum ETLError: TandemLakehouseError {
    /// No judgment line passed the checks of docs/data-contract.md (every line quarantined, or every judgment's
    /// video unknown), so there is no silver judgment to build gold from. Nothing is registered in silver or gold
    /// and the latest feature table version (`latest`, when there is one) stays the latest.
    case noSilverJudgments(
        input: String, quarantine: ETLReport.Quarantine, examples: [QuarantinedLine], latest: String?)

    /// Exit 1: the run's own verdict on its input is no.
    public var exitStatus: ExitStatus { .verdictNo }

    public var description: String {
        switch self {
        case .noSilverJudgments(let input, let quarantine, let examples, let latest):
            func counts(_ reasons: [String: Int]) -> String {
                let parts = reasons.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                return parts.isEmpty ? "none" : parts.joined(separator: ", ")
            }
            let j = quarantine.judgments
            let v = quarantine.videos
            var text =
                "no judgment in \(input) passed the checks of docs/data-contract.md, so there is nothing to build a feature "
                + "table from: \(j.linesTotal) judgment lines, quarantined \(counts(j.quarantined)); \(v.linesTotal) video "
                + "lines, \(v.silverVideos) valid, quarantined \(counts(v.quarantined)). Nothing was registered"
                + (latest.map { "; \($0) stays the latest" } ?? "") + "."
            if !examples.isEmpty {
                text += " The first rejected lines:"
                for line in examples { text += "\n  \(line.file):\(line.lineNumber): \(line.reason.rawValue): \(line.detail)" }
                text += "\n"
            }
            return text + " Fix the input (docs/data-contract.md says what each line must hold) and run again."
        }
    }
}
