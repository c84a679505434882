public import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemFeatures
import TandemLakehouse
import TandemLearning
import TandemPipeline
import TandemRegistry

/// `tandem evaluate`: the inference pipeline and offline evaluation of model versions.
public struct EvaluateCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "evaluate",
        _superCommandName: "tandem",
        abstract: "Score requests with a model through the one feature code path, or evaluate it on gold data.",
        discussion: """
            `score` reads requests as JSON lines {"query": str, "candidates": [video_url, …]} in their raw surface \
            forms; the query is normalised and the URLs canonicalised as in docs/data-contract.md, video metadata comes from the \
            environment's silver videos, and features are computed by the same function as the gold build. Each \
            output line is {"query", "ranked": [{"video_url", "score"}…], "unknown": [{"candidate", "reason"}…]}, \
            best first. `gold` scores a gold table (held-out queries by default) and prints its metrics.

            Example:
              tandem evaluate score --env test --model relevance-ranker@champion --input requests.jsonl
              tandem evaluate gold --env test --model relevance-ranker@3 --json

            \(exitCodesHelp)
            """,
        version: TandemVersion.current,
        subcommands: [Score.self, Gold.self])

    public init() {}

    struct Score: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rank candidate videos for queries (JSON lines in, JSON lines out).",
            discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Option(help: ArgumentHelp("A model artifact file, or NAME@VERSION / NAME@ALIAS in the registry.", valueName: "model"))
        var model: String
        @Option(help: ArgumentHelp("Requests, one JSON object per line.", valueName: "file")) var input: String
        @Option(help: ArgumentHelp("Write results here instead of stdout.", valueName: "file")) var output: String?

        func run() throws {
            let context = try StageContext.load(common)
            let (ranker, _) = try context.loadModel(model)
            let pipeline = try InferencePipeline.serving(ranker, store: try context.openFeatureStoreForReading())
            let sink =
                output.map { FileManager.default.createFile(atPath: $0, contents: nil) ? FileHandle(forWritingAtPath: $0) : nil }
                ?? FileHandle.standardOutput
            guard let sink else { throw Failure(.invalidInput, "\(output ?? ""): cannot be written") }
            try pipeline.rankLines(of: input, into: sink)
        }
    }

    struct Gold: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a model on a gold table (the held-out test queries by default).",
            discussion: """
                The metrics and their conventions (gain 2^label − 1, queries with no relevant item skipped, ties in \
                candidate order) are in docs/data-contract.md, "Ranking metrics". `--per-query` adds each query's values (with --json, \
                `per_query`: one object per query with its part of the split and a value per metric, null where \
                undefined).

                Example:
                  tandem evaluate gold --env test --model relevance-ranker@champion
                  tandem evaluate gold --env test --model relevance-ranker@3 --split validation --per-query --json

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions
        @Option(help: ArgumentHelp("A model artifact file, or NAME@VERSION / NAME@ALIAS.", valueName: "model")) var model: String
        @Option(
            help: ArgumentHelp(
                "The feature table (NAME@VERSION; the model's feature set's latest by default).", valueName: "table"))
        var table: String?
        @Option(help: "Which queries: test (held out; the default), validation, train or all.") var split: SplitChoice = .test
        @Flag(help: "Score every query (the same as --split all).") var all = false
        @Flag(help: "Also print each query's metrics.") var perQuery = false

        enum SplitChoice: String, ExpressibleByArgument, CaseIterable {
            case test, validation, train, all
        }

        func run() throws {
            let context = try StageContext.load(common)
            let (ranker, name) = try context.loadModel(model)
            let store = try context.openFeatureStoreForReading()
            let reference = try table.map {
                guard let r = FeatureTableReference($0) else {
                    throw Failure(.invalidInput, "--table: '\($0)' is not NAME@VERSION")
                }
                return r
            }
            let inputs = try TrainingInputs(store: store, model: ranker, table: reference)
            let choice = all ? .all : split
            let parts: [GoldSplit.Part] =
                switch choice {
                case .test: [.test]
                case .validation: [.validation]
                case .train: [.train]
                case .all: [.train, .validation, .test]
                }
            let report = GoldEvaluation.evaluate(
                ranker, named: name, on: inputs, parts: parts, split: choice.rawValue, perQuery: perQuery)
            if common.json { try Terminal.printJSON(report); return }
            for line in EvaluationText.gold(report) { print(line) }
        }
    }
}
