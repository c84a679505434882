import ArgumentParser
import Foundation
import TandemCommands
import TandemCore
import TandemFeatures
import TandemLakehouse
import TandemStorage

extension BenchCommand {
    struct ETL: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate data with the fixtures generator, run the ETL into a fresh root, print rows/s and peak RSS.",
            discussion: """
                With --references, the same input then goes through Tests/Reference/polars_etl.py and \
                Tests/Reference/duckdb_etl.py (the same checks, silver with history, the point-in-time join and \
                the 56 features, written as Parquet) with the same threads; each is reported with its time, peak \
                RSS and CPU use, and Tandem's speed-up over it.
                """)

        @Option(help: "Queries to generate (about 31 judgment lines each).") var queries: Int = 33_000
        @Option(help: "Seed.") var seed: UInt64 = 42
        @Option(help: "Earlier observations of every video (observed_at), for the point-in-time join.")
        var history: Int = 0
        @Option(help: "Threads of the ETL and of the references.") var threads: Int = 2
        @Flag(help: "Also run the polars and DuckDB references on the same input.") var references = false
        @Option(help: ArgumentHelp("Work folder (data is reused across runs when present).", valueName: "dir"))
        var work: String = ".build/bench-etl"
        @Flag(help: "Print JSON.") var json = false

        struct Result: Encodable {
            var judgmentLines: Int
            var videoLines: Int
            var threads: Int
            var seconds: Double
            var judgmentRowsPerSecond: Double
            var peakRSSMiB: Double
            var cpuSeconds: Double
            var timingsMs: [String: Double]
            var references: [Reference] = []
            var notes: [String] = []
        }

        struct Reference: Encodable {
            var engine: String
            var version: String?
            var seconds: Double
            var peakRSSMiB: Double?
            var cpuSeconds: Double?
            var goldRows: Int?
            /// Reference seconds over Tandem's.
            var tandemSpeedup: Double
        }

        func run() throws {
            guard (1...64).contains(threads) else { throw ValidationError("--threads \(threads): give 1 to 64") }
            let data = (work as NSString).appendingPathComponent("input-\(queries)-\(seed)-h\(history)")
            if !FileManager.default.fileExists(atPath: (data as NSString).appendingPathComponent("judgments.jsonl")) {
                Terminal.note("generating \(queries) queries into \(data)…")
                var generator = FixtureGenerator(queries: queries, seed: seed)
                generator.history = history
                _ = try generator.write(to: data)
            }
            let root = (work as NSString).appendingPathComponent("features-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(atPath: root) }
            try RootGuard.claim(path: root, environment: "bench", role: .features, writer: .stage("bench"))
            let store = try FeatureStore(root: root)
            var pipeline = ETLPipeline(store: store, options: .init(environment: "bench", inputFolder: data))
            pipeline.workers = threads
            let cpuBefore = ResourceUsage.cpuSeconds()
            let report = try pipeline.run()
            let cpu = ResourceUsage.cpuSeconds() - cpuBefore
            let judgmentLines = report.inputs["judgments"]?.lines ?? 0
            let seconds = (report.timingsMs["total"] ?? 0) / 1000
            var result = Result(
                judgmentLines: judgmentLines, videoLines: report.inputs["videos"]?.lines ?? 0, threads: threads,
                seconds: seconds, judgmentRowsPerSecond: Double(judgmentLines) / seconds,
                peakRSSMiB: ResourceUsage.peakRSSMiB(), cpuSeconds: cpu, timingsMs: report.timingsMs)
            if references {
                // The references see the same ingestion time, so their point-in-time join picks the same versions.
                let recorded = try store.bronzeFiles().first { $0.kind == "videos" }?.ingestedAt ?? ""
                let ingestedAt = DataTimestamp(seconds: (DataTimestamp(recorded) ?? .init(seconds: 0)).seconds).silverText
                measureReferences(data: data, ingestedAt: ingestedAt, into: &result)
            }
            if json { try Terminal.printJSON(result); return }
            print(
                String(
                    format: "etl: %d judgment lines (+%d video lines), %d threads, in %.2f s = %.0f rows/s, "
                        + "peak RSS %.0f MiB, CPU %.1f s (%.0f%% of %d cores)",
                    judgmentLines, result.videoLines, threads, seconds, result.judgmentRowsPerSecond, result.peakRSSMiB,
                    cpu, 100 * cpu / seconds / Double(threads), threads))
            for (k, v) in report.timingsMs.sorted(by: { $0.key < $1.key }) {
                print("  " + k.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%8.0f ms", v))
            }
            for r in result.references {
                print(
                    String(
                        format: "%@ %@: %.2f s, peak RSS %.0f MiB, CPU %.1f s; Tandem's speed-up over it: %.2f×", r.engine,
                        r.version ?? "?", r.seconds, r.peakRSSMiB ?? 0, r.cpuSeconds ?? 0, r.tandemSpeedup))
            }
            for note in result.notes { print("note: " + note) }
        }

        private func measureReferences(data: String, ingestedAt: String, into result: inout Result) {
            for (engine, script) in [("polars", "Tests/Reference/polars_etl.py"), ("duckdb", "Tests/Reference/duckdb_etl.py")] {
                Terminal.note("reference: \(engine), the same input…")
                let out = (work as NSString).appendingPathComponent("\(engine)-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(atPath: out) }
                let arguments = [data, out, "--threads", String(threads), "--ingested-at", ingestedAt]
                switch ReferenceScript.run(script, arguments, install: engine) {
                case .success(let doc):
                    guard let seconds = doc["seconds"] as? Double else {
                        result.notes.append("\(engine): no seconds in its output")
                        continue
                    }
                    result.references.append(
                        Reference(
                            engine: engine, version: doc["version"] as? String, seconds: seconds,
                            peakRSSMiB: doc["peak_rss_mib"] as? Double, cpuSeconds: doc["cpu_seconds"] as? Double,
                            goldRows: doc["gold_rows"] as? Int, tandemSpeedup: seconds / result.seconds))
                case .failure(let f): result.notes.append("\(engine): \(f.note)")
                }
            }
        }
    }
}
