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

    struct List: StageCommand {
        static let configuration = CommandConfiguration(abstract: "List runs, newest first.", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Option(help: "Only runs of this experiment (model name).") var experiment: String?
        @Option(help: "At most this many runs.") var limit: Int = 50

        func run() throws {
            let registry = try StageContext.load(common).openRegistry(writer: nil)
            let runs = try registry.runs(experiment: experiment, limit: limit)
            if common.json { try Terminal.printJSON(runs); return }
            var ndcg: [String: Double] = [:]
            for r in runs { ndcg[r.id] = try registry.metricHistory(runID: r.id).last { $0.key == "test_ndcg@10" }?.value }
            for line in RunText.list(runs, ndcg: ndcg) { print(line) }
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
            let r = try registry.run(matching: id)
            let history = try registry.metricHistory(runID: r.id)
            if common.json { try Terminal.printJSON(View(run: r, metrics: history)); return }
            for line in RunText.show(r, history: history) { print(line) }
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

        func run() throws {
            let columns = try StageContext.load(common).openRegistry(writer: nil).comparison(of: runs)
            if common.json { try Terminal.printJSON(columns); return }
            for line in RunText.comparison(columns) { print(line) }
        }
    }
}
