public import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemRegistry

/// `tandem runs`: the tracked runs of an environment.
public struct RunsCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "runs",
        _superCommandName: "tandem",
        abstract: "List, show and compare tracked training runs.",
        discussion: """
            Every training is a run in the environment's registry: its parameters, metrics per epoch with \
            timestamps (the full history), artifact, git commit, branch and dirtiness, feature table and data digest.

            Example:
              tandem runs list --env dev
              tandem runs show --env dev 7532b73c --json
              tandem runs compare --env dev 7532b73c a11e7c1d

            \(exitCodesHelp)
            """,
        version: TandemVersion.current,
        subcommands: [List.self, Show.self, Compare.self])

    public init() {}

    /// Finds a run by id or unique id prefix.
    static func find(_ prefix: String, in registry: any ModelRegistry) throws -> RunRecord {
        if let exact = try Failure.unlessNotFound({ try registry.run(id: prefix) }) { return exact }
        let matches = try registry.runs(experiment: nil, limit: 100_000).filter { $0.id.hasPrefix(prefix) }
        guard matches.count == 1 else {
            throw Failure(
                .invalidInput,
                matches.isEmpty
                    ? "no run '\(prefix)'; see `tandem runs list`"
                    : "'\(prefix)' matches \(matches.count) runs; give more of the id")
        }
        return matches[0]
    }

    struct List: StageCommand {
        static let configuration = CommandConfiguration(abstract: "List runs, newest first.", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Option(help: "Only runs of this experiment (model name).") var experiment: String?
        @Option(help: "At most this many runs.") var limit: Int = 50

        func run() throws {
            let registry = try StageContext.load(common).openRegistry(writer: nil)
            let runs = try registry.runs(experiment: experiment, limit: limit)
            if common.json { try Terminal.printJSON(runs); return }
            var rows = [["RUN", "EXPERIMENT", "NAME", "STATUS", "STARTED", "NDCG@10", "FEATURES"]]
            for r in runs {
                let best = try registry.metricHistory(runID: r.id).last { $0.key == "test_ndcg@10" }?.value
                rows.append([
                    String(r.id.prefix(12)), r.experiment, r.name, r.status, r.startedAt,
                    best.map { String(format: "%.4f", $0) } ?? "-", r.featureTable ?? "-",
                ])
            }
            for line in Terminal.table(rows) { print(line) }
        }
    }

    struct Show: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one run with its metric history.", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The run id (or a unique prefix).") var id: String

        struct View: Encodable {
            var run: RunRecord
            var metrics: [MetricPoint]
        }

        func run() throws {
            let registry = try StageContext.load(common).openRegistry(writer: nil)
            let r = try RunsCommand.find(id, in: registry)
            let history = try registry.metricHistory(runID: r.id)
            if common.json { try Terminal.printJSON(View(run: r, metrics: history)); return }
            print("run \(r.id) (\(r.experiment) / \(r.name)): \(r.status)")
            print("  started \(r.startedAt)" + (r.endedAt.map { ", ended \($0)" } ?? ""))
            if let p = r.parentID { print("  parent  \(p)") }
            print(
                "  code    \(r.gitCommit.map { String($0.prefix(12)) } ?? "-") on \(r.gitBranch ?? "-")\(r.gitDirty == true ? " (dirty)" : "")"
            )
            print("  data    \(r.featureTable ?? "-") (\(r.dataDigest.map { String($0.prefix(12)) } ?? "-"))")
            if let a = r.artifactDigest { print("  artifact sha256:\(a)") }
            for (k, v) in r.parameters.sorted(by: { $0.key < $1.key }) { print("  param   \(k) = \(v)") }
            for (k, v) in r.tags.sorted(by: { $0.key < $1.key }) { print("  tag     \(k) = \(v)") }
            let keys = Array(Set(history.map(\.key))).sorted()
            for key in keys {
                let points = history.filter { $0.key == key }
                print("  metric  \(key): " + points.map { String(format: "%d:%.4f", $0.step, $0.value) }.joined(separator: " "))
            }
        }
    }

    struct Compare: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lay the parameters and final metrics of two or more runs side by side.", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Argument(help: "Run ids (or unique prefixes).") var runs: [String]

        func validate() throws {
            if runs.count < 2 { throw ValidationError("give at least two runs to compare") }
        }

        struct Column: Encodable {
            var run: String
            var parameters: [String: String]
            var metrics: [String: Double]
        }

        func run() throws {
            let registry = try StageContext.load(common).openRegistry(writer: nil)
            var columns: [Column] = []
            for id in runs {
                let r = try RunsCommand.find(id, in: registry)
                var last: [String: Double] = [:]
                for p in try registry.metricHistory(runID: r.id) { last[p.key] = p.value }
                var parameters = r.parameters
                parameters["feature_table"] = r.featureTable ?? "-"
                parameters["git_commit"] = r.gitCommit.map { String($0.prefix(12)) } ?? "-"
                columns.append(Column(run: r.id, parameters: parameters, metrics: last))
            }
            if common.json { try Terminal.printJSON(columns); return }
            var rows: [[String]] = []
            func row(_ label: String, _ values: [String]) {
                rows.append([(Set(values).count > 1 ? "≠ " : "  ") + label] + values)
            }
            row("run", columns.map { String($0.run.prefix(12)) })
            for key in Set(columns.flatMap { $0.parameters.keys }).sorted() {
                row(key, columns.map { $0.parameters[key] ?? "-" })
            }
            for key in Set(columns.flatMap { $0.metrics.keys }).sorted() {
                row(key, columns.map { $0.metrics[key].map { String(format: "%.4f", $0) } ?? "-" })
            }
            for line in Terminal.table(rows) { print(line) }
        }
    }
}
