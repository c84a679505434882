public import ArgumentParser
import Foundation
import TandemCommands
import TandemCore
import TandemFeatures
import TandemLakehouse
import TandemLearning

extension BenchCommand {
    /// `tandem-bench train`: training throughput, GFLOP/s against sgemm's peak, held-out NDCG@10, and
    /// inference throughput and latency.
    struct Train: StageCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Train the reference MLP on generated data; print examples/s, GFLOP/s, sgemm peak, NDCG@10 and inference speed.")

        @Option(help: "Queries to generate (about 31 judgments each).") var queries: Int = 33_000
        @Option(help: "Seed of the data.") var seed: UInt64 = 42
        @Option(help: "Epochs.") var epochs: Int = 5
        @Option(help: "OpenBLAS threads.") var threads: Int = 1
        @Option(help: "Hidden layers, comma-separated.") var hidden: String = "256,128"
        @Option(help: "Learning rate.") var learningRate: Double = 0.001
        @Option(help: "Learning-rate schedule: constant or cosine.") var schedule: LearningRateSchedule = .constant
        @Option(help: ArgumentHelp("Work folder.", valueName: "dir")) var work: String = ".build/bench-etl"
        @Flag(help: "Print JSON.") var json = false
        @Flag(
            help:
                "Also measure the references in this run: numpy (the same loop; Tests/Reference/numpy_listnet.py) and onnxruntime (the same model; Tests/Reference/onnx_scorer.py), with the same threads and OpenBLAS kernel."
        )
        var reference = false

        func run() throws {
            let (gold, _, tableReference) = try BenchData.gold(queries: queries, seed: seed, work: work)
            let split = GoldSplit(gold)
            BLAS.setThreads(threads)
            var settings = TrainingSettings()
            settings.hidden = hidden.split(separator: ",").compactMap { Int($0) }
            settings.maxEpochs = epochs
            settings.patience = epochs
            settings.threads = threads
            settings.learningRate = learningRate
            settings.schedule = schedule
            let numeric = NumericEnvironment.current(threads: threads)
            Terminal.note(
                "kernel: \(numeric.blas), core \(numeric.blasCore), \(threads) thread(s); scorer \(numeric.scoringKernel)")
            let signature = ModelSignature(
                featureSet: "relevance_v1", featureSetVersion: 1, featureTable: tableReference,
                features: try FeatureViewCatalogue.relevanceV1().featureSet.names.map { .init(name: $0, type: "float32") })
            let peak = Self.sgemmPeak()
            let trainer = Trainer(settings: settings, train: split.train, validation: split.validation, signature: signature)
            let outcome = trainer.run(observe: { event in
                if case .epoch(let r, _) = event {
                    Terminal.note(
                        String(
                            format: "epoch %d: loss %.4f, validation NDCG@10 %.4f, %.0f examples/s", r.epoch, r.loss,
                            r.metrics["ndcg@10"] ?? 0, r.examplesPerSecond))
                }
            })
            let heldOut = RankingMetrics.evaluate(
                groups: split.test.groups, labels: split.test.labels,
                scores: Scorer(model: outcome.model).score(split.test.features, rows: split.test.rows))
            // BM25 over titles alone, as a ranker.
            let bm25 = (0..<split.test.rows).map { split.test.features[$0 * split.test.width] }
            let bm25Report = RankingMetrics.evaluate(groups: split.test.groups, labels: split.test.labels, scores: bm25)
            // The ceiling: the generator's own noiseless relevance as the ranker (it knows each query's hidden topic
            // and intent, which no model of the features can fully recover).
            let oracle = try BenchData.oracleScores(queries: queries, seed: seed, work: work, gold: gold)
            let oracleReport = RankingMetrics.evaluate(
                groups: split.test.groups, labels: split.test.labels, scores: oracle)
            let interruptions = Self.machineInterruptions()
            let inference = Self.inference(outcome.model, data: split.test, threads: threads)
            var references: References?
            if reference {
                references = try References.measure(
                    train: split.train, settings: settings, model: outcome.model, test: split.test, work: work,
                    threads: threads)
            }
            struct Result: Encodable {
                var trainRows: Int, testRows: Int, epochs: Int, threads: Int
                var numericEnvironment: NumericEnvironment
                var trainingExamplesPerSecond: Double, trainingGFLOPs: Double, sgemmPeakGFLOPs: Double
                var testNDCG10: Double, bm25TitleNDCG10: Double, oracleNDCG10: Double
                var interruptionsPerSecond: Double, interruptionMeanMicros: Double
                var batchPairsPerSecond: Double, scoringGFLOPs: Double, queryLatencyP50Micros: Double,
                    queryLatencyP99Micros: Double
                var references: References?
            }
            let result = Result(
                trainRows: split.train.rows, testRows: split.test.rows, epochs: outcome.history.count, threads: threads,
                numericEnvironment: numeric,
                trainingExamplesPerSecond: outcome.examplesPerSecond, trainingGFLOPs: outcome.gflops, sgemmPeakGFLOPs: peak,
                testNDCG10: heldOut.means["ndcg@10"] ?? 0, bm25TitleNDCG10: bm25Report.means["ndcg@10"] ?? 0,
                oracleNDCG10: oracleReport.means["ndcg@10"] ?? 0, interruptionsPerSecond: interruptions.perSecond,
                interruptionMeanMicros: interruptions.meanMicros,
                batchPairsPerSecond: inference.pairsPerSecond, scoringGFLOPs: inference.gflops,
                queryLatencyP50Micros: inference.p50, queryLatencyP99Micros: inference.p99, references: references)
            if json { try Terminal.printJSON(result); return }
            print(
                "kernel: \(numeric.blas) (\(numeric.blasConfig)), core \(numeric.blasCore), \(threads) thread(s); "
                    + "scorer kernel \(numeric.scoringKernel)")
            print(
                String(
                    format: "train: %d rows, %d epochs, %d thread(s): %.0f examples/s, %.1f GFLOP/s (sgemm peak %.1f GFLOP/s)",
                    result.trainRows, result.epochs, threads, result.trainingExamplesPerSecond, result.trainingGFLOPs, peak))
            print(
                String(
                    format:
                        "test NDCG@10: %.4f (BM25 title alone %.4f; the generator's noiseless relevance, the ceiling, %.4f) over %d queries",
                    result.testNDCG10, result.bm25TitleNDCG10, result.oracleNDCG10, split.test.groups.count))
            print(
                String(
                    format: "inference: %.0f pairs/s batch (%.1f GFLOP/s); one query of 30 candidates p50 %.1f µs, p99 %.1f µs",
                    result.batchPairsPerSecond, result.scoringGFLOPs, result.queryLatencyP50Micros, result.queryLatencyP99Micros))
            print(
                String(
                    format:
                        "machine: a running thread is interrupted %.0f times/s for %.1f µs on average (measured with a clock loop)",
                    result.interruptionsPerSecond, result.interruptionMeanMicros))
            if let r = references {
                if let n = r.numpyExamplesPerSecond {
                    print(
                        String(
                            format: "reference numpy (%@): %.0f examples/s — Tandem %.2f×", r.numpyBLAS ?? "?", n,
                            result.trainingExamplesPerSecond / n))
                }
                if let o = r.onnxPairsPerSecond {
                    print(
                        String(
                            format:
                                "reference onnxruntime %@: %.0f pairs/s batch — Tandem %.2f×; 30 candidates p50 %.1f µs, p99 %.1f µs",
                            r.onnxVersion ?? "?", o, result.batchPairsPerSecond / o, r.onnxP50Micros ?? 0,
                            r.onnxP99Micros ?? 0))
                }
                for note in r.notes { print("reference: \(note)") }
            }
        }

        /// How often, and how long, this machine takes the CPU away from a running thread: a loop reads the clock
        /// for one second and records every gap over 3 µs (on a VM: timer ticks and the hypervisor's exits). A
        /// request is slowed by one whenever a gap falls inside it, whatever the scoring code does.
        static func machineInterruptions() -> (perSecond: Double, meanMicros: Double) {
            let start = ContinuousClock.now
            var last = start
            var count = 0
            var total = 0.0
            while last - start < .seconds(1) {
                let now = ContinuousClock.now
                let gap = (now - last).seconds * 1e6
                if gap > 3 {
                    count += 1
                    total += gap
                }
                last = now
            }
            return (Double(count), count == 0 ? 0 : total / Double(count))
        }

        /// `cblas_sgemm`'s throughput on a large square product, measured here.
        static func sgemmPeak() -> Double {
            let n = 1024
            let a = FloatBuffer([Float](repeating: 0.5, count: n * n))
            let b = FloatBuffer([Float](repeating: 0.25, count: n * n))
            let c = FloatBuffer(count: n * n)
            BLAS.gemm(m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, c: c.pointer, ldc: n)
            var best = 0.0
            for _ in 0..<5 {
                let t = ContinuousClock.now
                BLAS.gemm(m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, c: c.pointer, ldc: n)
                let d = ContinuousClock.now - t
                let s = d.seconds
                best = max(best, 2 * Double(n * n * n) / s / 1e9)
            }
            return best
        }

        static func inference(_ model: RankerModel, data: RankingDataset, threads: Int) -> (
            pairsPerSecond: Double, gflops: Double, p50: Double, p99: Double
        ) {
            let scorer = Scorer(model: model, threads: threads)
            var out = [Float](repeating: 0, count: data.rows)
            let start = ContinuousClock.now
            var rounds = 0
            repeat {
                data.features.withUnsafeBufferPointer { f in
                    out.withUnsafeMutableBufferPointer { o in
                        if let fb = f.baseAddress, let ob = o.baseAddress { scorer.score(fb, rows: data.rows, into: ob) }
                    }
                }
                rounds += 1
            } while ContinuousClock.now - start < .seconds(2)
            let d = ContinuousClock.now - start
            let seconds = d.seconds
            let pairs = Double(rounds * data.rows) / seconds
            var latencies: [Double] = []
            let width = data.width
            for _ in 0..<3 {
                // Requests of 30 candidates each, cut from the held-out rows.
                for start in stride(from: 0, to: data.rows - 30, by: 30) {
                    let range = start..<(start + 30)
                    data.features.withUnsafeBufferPointer { f in
                        out.withUnsafeMutableBufferPointer { o in
                            guard let fb = f.baseAddress, let ob = o.baseAddress else { return }
                            let t = ContinuousClock.now
                            scorer.score(fb + range.lowerBound * width, rows: range.count, into: ob)
                            let e = ContinuousClock.now - t
                            latencies.append(e.seconds * 1e6)
                        }
                    }
                }
            }
            latencies.sort()
            Terminal.note(
                String(
                    format: "latency percentiles (µs): p50 %.1f p90 %.1f p95 %.1f p98 %.1f p99 %.1f p99.9 %.1f max %.1f",
                    latencies[latencies.count / 2], latencies[latencies.count * 9 / 10], latencies[latencies.count * 95 / 100],
                    latencies[latencies.count * 98 / 100], latencies[latencies.count * 99 / 100],
                    latencies[latencies.count * 999 / 1000],
                    latencies[latencies.count - 1]))
            return (
                pairs, pairs * model.forwardFLOPsPerRow / 1e9, latencies[latencies.count / 2],
                latencies[latencies.count * 99 / 100]
            )
        }
    }
}

extension LearningRateSchedule: ExpressibleByArgument {}
