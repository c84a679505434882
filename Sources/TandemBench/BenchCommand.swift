public import ArgumentParser
import Foundation
public import TandemCommands
import TandemCore
import TandemFeatures
import TandemLakehouse
import TandemStorage

/// `tandem-bench`: the benchmarks behind docs/benchmarks.md. Run in release mode:
/// `swift run -c release tandem-bench etl --queries 33000`.
public struct BenchCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tandem-bench",
        abstract: "Benchmarks whose figures go into docs/benchmarks.md (build with -c release).",
        subcommands: [ETL.self, Train.self, Inference.self, Registry.self, Webhooks.self, State.self, Compute.self])

    public init() {}

    struct ETL: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate data with the fixtures generator, run the ETL into a fresh root, print rows/s and peak RSS.")

        @Option(help: "Queries to generate (about 31 judgment lines each).") var queries: Int = 33_000
        @Option(help: "Seed.") var seed: UInt64 = 42
        @Option(help: ArgumentHelp("Work folder (data is reused across runs when present).", valueName: "dir"))
        var work: String = ".build/bench-etl"
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let data = (work as NSString).appendingPathComponent("input-\(queries)-\(seed)")
            if !FileManager.default.fileExists(atPath: (data as NSString).appendingPathComponent("judgments.jsonl")) {
                Terminal.note("generating \(queries) queries into \(data)…")
                _ = try FixtureGenerator(queries: queries, seed: seed).write(to: data)
            }
            let root = (work as NSString).appendingPathComponent("features-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(atPath: root) }
            try RootGuard.claim(path: root, environment: "bench", role: .features, writer: .stage("bench"))
            let store = try FeatureStore(root: root)
            let report = try ETLPipeline(store: store, options: .init(environment: "bench", inputFolder: data)).run()
            let judgmentLines = report.inputs["judgments"]?.lines ?? 0
            let seconds = (report.timingsMs["total"] ?? 0) / 1000
            struct Result: Encodable {
                var judgmentLines: Int
                var videoLines: Int
                var seconds: Double
                var judgmentRowsPerSecond: Double
                var peakRSSMiB: Double
                var timingsMs: [String: Double]
            }
            let result = Result(
                judgmentLines: judgmentLines, videoLines: report.inputs["videos"]?.lines ?? 0, seconds: seconds,
                judgmentRowsPerSecond: Double(judgmentLines) / seconds, peakRSSMiB: ResourceUsage.peakRSSMiB(),
                timingsMs: report.timingsMs)
            if json { try Terminal.printJSON(result); return }
            print(
                String(
                    format: "etl: %d judgment lines (+%d video lines) in %.2f s = %.0f rows/s, peak RSS %.0f MiB",
                    judgmentLines, result.videoLines, seconds, result.judgmentRowsPerSecond, result.peakRSSMiB))
            for (k, v) in report.timingsMs.sorted(by: { $0.key < $1.key }) {
                print("  " + k.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%8.0f ms", v))
            }
        }
    }
}

/// Peak resident memory of this process.
enum ResourceUsage {
    static func peakRSSMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
    }
}

/// Shared set-up of the benchmarks: generated data through the ETL into a scratch features root.
enum BenchData {
    static func gold(queries: Int, seed: UInt64, work: String) throws -> (GoldTable.Loaded, FeatureStore, String) {
        let data = (work as NSString).appendingPathComponent("input-\(queries)-\(seed)")
        if !FileManager.default.fileExists(atPath: (data as NSString).appendingPathComponent("judgments.jsonl")) {
            Terminal.note("generating \(queries) queries into \(data)…")
            _ = try FixtureGenerator(queries: queries, seed: seed).write(to: data)
        }
        let root = (work as NSString).appendingPathComponent("features-\(queries)-\(seed)")
        try RootGuard.claim(path: root, environment: "bench", role: .features, writer: .stage("bench"))
        let store = try FeatureStore(root: root)
        if try store.featureTables(set: "relevance_v1").isEmpty {
            Terminal.note("building gold features…")
            _ = try ETLPipeline(store: store, options: .init(environment: "bench", inputFolder: data)).run()
        }
        let table = try store.featureTable(FeatureTableReference(featureSet: "relevance_v1", version: nil))
        return (try GoldTable.load(folder: store.goldFolder(of: table), expectedDigest: table.digest), store, table.reference)
    }

    /// The generator's noiseless relevance of every held-out gold row (in the held-out split's order): the data is
    /// generated again with the same seed (so byte for byte the same) into a scratch folder, keeping for each
    /// (query, video) the score at the judgment silver kept (the latest judged_at; ties to the later line).
    static func oracleScores(queries: Int, seed: UInt64, work: String, gold: GoldTable.Loaded) throws -> [Float] {
        final class Sink: @unchecked Sendable {
            var best: [String: (Int64, Int, Double)] = [:]
            var line = 0
        }
        let sink = Sink()
        var generator = FixtureGenerator(queries: queries, seed: seed)
        generator.oracle = { query, id, judgedAt, expected in
            sink.line += 1
            let key = TextNormalization.normalizeQuery(query) + "\t" + VideoURL.canonical(id: id)
            if let kept = sink.best[key], (kept.0, kept.1) > (judgedAt, sink.line) { return }
            sink.best[key] = (judgedAt, sink.line, expected)
        }
        let scratch = (work as NSString).appendingPathComponent("oracle-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        _ = try generator.write(to: scratch)
        var scores: [Float] = []
        for r in 0..<gold.rowCount where FNV1a.isHeldOut(normalizedQuery: gold.queries[r]) {
            scores.append(Float(sink.best[gold.queries[r] + "\t" + gold.videoURLs[r]]?.2 ?? -10))
        }
        return scores
    }
}
