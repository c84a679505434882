import ArgumentParser
import Foundation
import TandemCommands
import TandemCore
import TandemFeatures
import TandemLakehouse
import TandemLearning
import TandemPipeline

extension BenchCommand {
    /// The inference path per request (docs/benchmarks.md, "Inference per request"): a request of raw query and
    /// candidate URLs through the feature plans and the scorer, as `tandem evaluate score` and the promotion's
    /// inference test run it, for a model on relevance_v1 alone and for one that joins a second view.
    struct Inference: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time the inference path per request (features from raw input + scoring), one view and two joined.")

        @Option(help: "Queries to generate.") var queries: Int = 3_000
        @Option(help: "Seed.") var seed: UInt64 = 42
        @Option(help: "Requests to time, per model.") var requests: Int = 20_000
        @Option(help: ArgumentHelp("Work folder (data is reused across runs when present).", valueName: "dir"))
        var work: String = ".build/bench-inference"
        @Flag(help: "Print JSON.") var json = false

        static let freshness = """
            view: freshness_v1
            entity: video
            owner: bench
            description: popularity and length
            features:
              - name: log_views
                expr: log1p(video.views)
                description: log(1 + views)
              - name: log_duration
                expr: log1p(video.duration_s)
                description: log(1 + duration)
            """

        struct Figures: Encodable {
            var model: String
            var requests: Int
            var candidatesPerRequest: Double
            var p50Microseconds: Double
            var p99Microseconds: Double
            var requestsPerSecond: Double
        }

        func run() throws {
            let (_, store, _) = try BenchData.gold(queries: queries, seed: seed, work: work)
            let view = try FeatureViewCatalogue.compile(Self.freshness, file: "features/freshness_v1.yaml")
            if try store.featureTables(set: "freshness_v1").isEmpty {
                let data = (work as NSString).appendingPathComponent("input-\(queries)-\(seed)")
                _ = try ETLPipeline(store: store, options: .init(environment: "bench", inputFolder: data, view: view)).run()
            }
            var figures: [Figures] = []
            for (label, joins, names) in [
                ("relevance_v1 (56 features)", [(String, Int?)](), [String]()),
                ("relevance_v1 + freshness_v1 (58 features)", [("freshness_v1", nil)], []),
            ] {
                let inputs = try TrainingInputs(
                    store: store, featureSet: "relevance_v1", tableVersion: nil, features: names, joining: joins)
                var settings = TrainingSettings()
                settings.maxEpochs = 1
                var model = Trainer(
                    settings: settings, train: inputs.split.train, validation: inputs.split.validation,
                    signature: inputs.signature
                ).run().model
                model.featureContract = inputs.featureContract
                let pipeline = try InferencePipeline.serving(model, store: store)
                // Requests: each query's candidates in gold order, cycled.
                let gold = inputs.gold
                let groups = QueryGroups(queries: gold.queries)
                let all = (0..<groups.count).map { g in
                    let range = groups.range(g)
                    return InferencePipeline.Request(
                        query: gold.queries[range.lowerBound], candidates: range.map { gold.videoURLs[$0] },
                        at: DataTimestamp(gold.judgedAt[range.lowerBound]))
                }
                for r in all.prefix(200) { _ = try pipeline.rank(r) }  // warm-up
                var times: [Double] = []
                times.reserveCapacity(requests)
                var candidates = 0
                let clock = ContinuousClock()
                let started = clock.now
                for i in 0..<requests {
                    let r = all[i % all.count]
                    candidates += r.candidates.count
                    let t = clock.now
                    _ = try pipeline.rank(r)
                    times.append((clock.now - t).seconds * 1e6)
                }
                let total = (clock.now - started).seconds
                times.sort()
                figures.append(
                    Figures(
                        model: label, requests: requests, candidatesPerRequest: Double(candidates) / Double(requests),
                        p50Microseconds: times[times.count / 2], p99Microseconds: times[times.count * 99 / 100],
                        requestsPerSecond: Double(requests) / total))
            }
            if json { try Terminal.printJSON(figures); return }
            for f in figures {
                print(
                    String(
                        format: "%@: %d requests of %.1f candidates, p50 %.1f µs, p99 %.1f µs, %.0f requests/s", f.model,
                        f.requests, f.candidatesPerRequest, f.p50Microseconds, f.p99Microseconds, f.requestsPerSecond))
            }
        }
    }
}
