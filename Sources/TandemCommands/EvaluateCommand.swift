import ArgumentParser
import Foundation
import TandemCore
import TandemLakehouse
import TandemLearning
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

    /// Loads a model from a path or from the registry (`NAME@VERSION`, `NAME@ALIAS`), checking its digest.
    static func loadModel(_ argument: String, context: StageContext) throws -> (RankerModel, String) {
        if FileManager.default.fileExists(atPath: argument) {
            let (model, _) = try ModelArtifact.load(path: argument)
            return (model, argument)
        }
        guard let reference = ModelReference(argument) else {
            throw UsageError("'\(argument)' is neither a model artifact file nor a model reference (NAME@VERSION or NAME@ALIAS)")
        }
        let registry = try context.openRegistry(writer: nil)
        let version = try registry.version(reference)
        let data = try registry.artifact(digest: version.artifactDigest)
        let (model, _) = try ModelArtifact.decode(data, source: version.reference)
        return (model, version.reference)
    }

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
            let (ranker, _) = try EvaluateCommand.loadModel(model, context: context)
            let store = try context.openFeatureStoreForReading()
            guard let set = FeatureSet.all[ranker.signature.featureSet] else {
                throw FeatureStoreError.unknownFeatureSet(ranker.signature.featureSet)
            }
            let columns = try set.indices(of: ranker.signature.features.map(\.name))
            let pipeline = InferencePipeline(
                features: InferenceFeatures(videos: try store.silverVideos(), featureSet: set),
                scorer: Scorer(model: ranker), columns: columns)
            let reader = try LineReader(path: input)
            var out = JSONText(capacity: 1 << 16)
            let sink =
                output.map { FileManager.default.createFile(atPath: $0, contents: nil) ? FileHandle(forWritingAtPath: $0) : nil }
                ?? FileHandle.standardOutput
            guard let sink else { throw UsageError("\(output ?? ""): cannot be written") }
            var parser = StrictJSONObjectParser(keys: ["query", "candidates", "at"])
            try reader.forEachBlock { buffer, ranges, first, _ in
                for (k, range) in ranges.enumerated() {
                    let line = UnsafeBufferPointer(rebasing: buffer[range])
                    guard let request = InferencePipeline.Request.parse(line, parser: &parser) else {
                        throw UsageError(
                            "\(input):\(first + k): not a request; write {\"query\": \"…\", \"candidates\": [\"url\", …]}")
                    }
                    try pipeline.rank(request).write(into: &out)
                }
                sink.write(Data(out.bytes))
                out.removeAll()
            }
        }
    }

    struct Gold: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a model on a gold table (held-out queries by default).",
            discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Option(help: ArgumentHelp("A model artifact file, or NAME@VERSION / NAME@ALIAS.", valueName: "model")) var model: String
        @Option(
            help: ArgumentHelp(
                "The feature table (NAME@VERSION; the model's feature set's latest by default).", valueName: "table"))
        var table: String?
        @Flag(help: "Score every query, not only the held-out ones.") var all = false

        struct Report: Encodable {
            var model: String
            var featureTable: String
            var queries: Int
            var rows: Int
            var metrics: [String: Double]
            enum CodingKeys: String, CodingKey {
                case model, queries, rows, metrics
                case featureTable = "feature_table"
            }
        }

        func run() throws {
            let context = try StageContext.load(common)
            let (ranker, name) = try EvaluateCommand.loadModel(model, context: context)
            let store = try context.openFeatureStoreForReading()
            let reference =
                try table.map {
                    guard let r = FeatureTableReference($0) else { throw UsageError("'\($0)' is not NAME@VERSION") }
                    return r
                } ?? FeatureTableReference(featureSet: ranker.signature.featureSet, version: nil)
            let t = try store.featureTable(reference)
            guard let set = FeatureSet.all[t.featureSet] else { throw FeatureStoreError.unknownFeatureSet(t.featureSet) }
            let gold = try GoldTable.load(folder: store.goldFolder(of: t), expectedDigest: t.digest)
            let split = GoldSplit(gold, columns: try set.indices(of: ranker.signature.features.map(\.name)))
            let data: RankingDataset
            if all {
                let everything = GoldSplit(gold, columns: try set.indices(of: ranker.signature.features.map(\.name)))
                data = RankingDataset(
                    features: everything.train.features + everything.heldOut.features,
                    labels: everything.train.labels + everything.heldOut.labels,
                    groups: QueryGroups(
                        names: everything.train.groups.names + everything.heldOut.groups.names,
                        starts: Array(everything.train.groups.starts.dropLast())
                            + everything.heldOut.groups.starts.map { $0 + everything.train.rows }),
                    width: everything.train.width)
            } else {
                data = split.heldOut
            }
            let scores = Scorer(model: ranker).score(data.features, rows: data.rows)
            let metrics = RankingMetrics.evaluate(groups: data.groups, labels: data.labels, scores: scores).means
            let report = Report(
                model: name, featureTable: t.reference, queries: data.groups.count, rows: data.rows, metrics: metrics)
            if common.json { try Terminal.printJSON(report); return }
            print("\(name) on \(t.reference) (\(all ? "all" : "held-out") queries: \(data.groups.count), rows: \(data.rows))")
            for name in RankingMetrics.names {
                print("  " + name.padding(toLength: 8, withPad: " ", startingAt: 0) + String(format: "%.4f", metrics[name] ?? 0))
            }
        }
    }
}
