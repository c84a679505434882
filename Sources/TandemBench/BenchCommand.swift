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
}

/// Peak resident memory of this process.
enum ResourceUsage {
    static func peakRSSMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
    }

    /// User and system CPU time of this process so far, in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
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
