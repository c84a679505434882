import Dispatch
import Foundation
import TandemCKernels
import TandemCore

/// Fits a `RankerModel` with the listwise softmax cross-entropy of ListNet (top-1, targets
/// `(2^label − 1) / Σ`), Adam, mini-batches of whole queries and early stopping on validation NDCG@10.
///
/// All dense math runs on OpenBLAS in float32; every buffer is allocated before the first step, so the
/// training loop allocates nothing. The same data, settings, seed and thread count give the same bits.
public final class Trainer: @unchecked Sendable {
    public let settings: TrainingSettings
    public let signature: ModelSignature
    let train: RankingDataset
    let validation: RankingDataset
    let sizes: [Int]
    let mean: [Float]
    let scale: [Float]
    /// Standardised training features.
    let xs: FloatBuffer
    let maxRows: Int

    // Workspaces: the parameters and Adam's moments, and one worker per thread, each with its own
    // activations and gradients for its share of a batch's queries.
    let params: FloatBuffer
    let adamM: FloatBuffer
    let adamV: FloatBuffer
    let workers: [Worker]
    /// Each layer's weights packed for the dense kernel, refreshed once per step (the forward pass).
    let packed: [FloatBuffer]
    /// Each layer's weights transposed and packed, for the backward pass's `delta · Wᵀ`; zeros for its bias.
    let packedTransposed: [FloatBuffer]
    let zeros: FloatBuffer
    var adamStep = 0
    /// Steps of the whole run (every epoch up to `maxEpochs`), for the learning-rate schedule.
    var totalSteps = 1

    /// One thread's share of a batch: its rows, activations, deltas and gradient.
    final class Worker: @unchecked Sendable {
        let batchX: FloatBuffer
        let batchLabels: UnsafeMutablePointer<Int8>
        let activations: [FloatBuffer]
        let deltas: [FloatBuffer]
        let grads: FloatBuffer
        let ones: FloatBuffer
        var rows = 0
        var groupStarts: [Int] = []
        var lossSum = 0.0
        var counted = 0

        init(sizes: [Int], maxRows: Int) {
            batchX = FloatBuffer(count: maxRows * sizes[0])
            batchLabels = .allocate(capacity: maxRows)
            batchLabels.initialize(repeating: 0, count: maxRows)
            activations = sizes.dropFirst().map { FloatBuffer(count: maxRows * $0) }
            deltas = sizes.dropFirst().map { FloatBuffer(count: maxRows * $0) }
            grads = FloatBuffer(count: RankerModel.parameterCount(sizes))
            ones = FloatBuffer([Float](repeating: 1, count: maxRows))
            groupStarts.reserveCapacity(1024)
        }

        deinit { batchLabels.deallocate() }
    }

    public init(settings: TrainingSettings, train: RankingDataset, validation: RankingDataset, signature: ModelSignature) {
        self.settings = settings
        self.train = train
        self.validation = validation
        self.signature = signature
        let d = train.width
        let sizes = settings.sizes(inputs: d)
        self.sizes = sizes
        let (mean, scale) = Self.standardization(train)
        self.mean = mean
        self.scale = scale
        let standardized = FloatBuffer(count: train.rows * d)
        // The same function the scorer uses, so training and serving standardise bit for bit alike.
        train.features.withUnsafeBufferPointer { f in
            mean.withUnsafeBufferPointer { m in
                scale.withUnsafeBufferPointer { s in
                    if let fb = f.baseAddress, let mb = m.baseAddress, let sb = s.baseAddress {
                        VectorOps.standardize(fb, into: standardized.pointer, rows: train.rows, d: d, mean: mb, scale: sb)
                    }
                }
            }
        }

        xs = standardized
        var largest: [Int] = []
        for g in 0..<train.groups.count { largest.append(train.groups.range(g).count) }
        largest.sort(by: >)
        let maxRows = max(1, largest.prefix(settings.batchQueries).reduce(0, +))
        self.maxRows = maxRows
        let count = RankerModel.parameterCount(sizes)
        params = FloatBuffer(RankerModel.initialParameters(sizes: sizes, seed: settings.seed))
        adamM = FloatBuffer(count: count)
        adamV = FloatBuffer(count: count)
        workers = (0..<max(1, settings.threads)).map { _ in Worker(sizes: sizes, maxRows: maxRows) }
        packed = (1..<sizes.count).map { FloatBuffer(count: tandem_dense_packed_count(Int32(sizes[$0 - 1]), Int32(sizes[$0]))) }
        packedTransposed = (1..<sizes.count).map {
            FloatBuffer(count: tandem_dense_packed_count(Int32(sizes[$0]), Int32(sizes[$0 - 1])))
        }
        zeros = FloatBuffer(count: sizes.max() ?? 1)
        // Each worker runs its share on one OpenBLAS thread; the trainer spreads work across threads itself.
        BLAS.setThreads(1)
    }

    /// Per-feature mean and 1/std over the training rows (1 where a feature is constant).
    static func standardization(_ data: RankingDataset) -> ([Float], [Float]) {
        let d = data.width
        var sum = [Double](repeating: 0, count: d)
        var sq = [Double](repeating: 0, count: d)
        data.features.withUnsafeBufferPointer { f in
            for r in 0..<data.rows {
                for j in 0..<d {
                    let v = Double(f[r * d + j])
                    sum[j] += v
                    sq[j] += v * v
                }
            }
        }
        let n = Double(max(1, data.rows))
        let mean = sum.map { Float($0 / n) }
        let scale = (0..<d).map { j -> Float in
            let variance = max(0, sq[j] / n - (sum[j] / n) * (sum[j] / n))
            let std = variance.squareRoot()
            return std > 1e-12 ? Float(1 / std) : 1
        }
        return (mean, scale)
    }

    /// The model with the current parameters.
    func snapshot() -> RankerModel {
        RankerModel(
            kind: settings.kind, sizes: sizes, parameters: params.array.prefix(RankerModel.parameterCount(sizes)).map { $0 },
            mean: mean, scale: scale, signature: signature)
    }

    /// Validation metrics of a model.
    public func validate(_ model: RankerModel) -> RankingMetrics.Report {
        let scores = Scorer(model: model).score(validation.features, rows: validation.rows)
        return RankingMetrics.evaluate(groups: validation.groups, labels: validation.labels, scores: scores)
    }

    /// Trains until the epochs run out, validation NDCG@10 stops improving, or `shouldStop` says so.
    public func run(observe: (TrainingEvent) -> Void = { _ in }, shouldStop: () -> Bool = { false }) -> TrainingOutcome {
        let started = ContinuousClock.now
        var history: [EpochRecord] = []
        var best = snapshot()
        var bestScore = -Double.infinity
        var bestEpoch = 0
        var sinceBest = 0
        var interrupted = false
        var step = 0
        var examples = 0
        var trainSeconds = 0.0
        let queryCount = train.groups.count
        let stepsPerEpoch = (queryCount + settings.batchQueries - 1) / max(1, settings.batchQueries)
        totalSteps = max(1, stepsPerEpoch * max(1, settings.maxEpochs))
        var order = Array(0..<queryCount)
        epochs: for epoch in 1...max(1, settings.maxEpochs) {
            let epochStart = ContinuousClock.now
            var rng = SeededNormal(seed: settings.seed &+ UInt64(epoch) &* 0x9E37_79B9)
            for i in stride(from: order.count - 1, to: 0, by: -1) {  // Fisher–Yates
                let j = Int(rng.raw() % UInt64(i + 1))
                order.swapAt(i, j)
            }
            var lossSum = 0.0
            var lossCount = 0
            var epochExamples = 0
            var b = 0
            while b < order.count {
                let batch = order[b..<min(order.count, b + settings.batchQueries)]
                b += settings.batchQueries
                let (loss, rows) = trainStep(batch)
                step += 1
                epochExamples += rows
                if !loss.isNaN {
                    lossSum += loss
                    lossCount += 1
                }
                if step % 20 == 0 {
                    let elapsed = Self.seconds(ContinuousClock.now - epochStart)
                    observe(
                        .step(
                            epoch: epoch, step: step, stepsPerEpoch: stepsPerEpoch, loss: lossSum / Double(max(1, lossCount)),
                            examplesPerSecond: Double(epochExamples) / max(1e-9, elapsed)))
                }
                if shouldStop() {
                    interrupted = true
                    break
                }
            }
            let elapsed = Self.seconds(ContinuousClock.now - epochStart)
            trainSeconds += elapsed
            examples += epochExamples
            let model = snapshot()
            let report = validate(model)
            let record = EpochRecord(
                epoch: epoch, step: step, loss: lossSum / Double(max(1, lossCount)), metrics: report.means,
                examplesPerSecond: Double(epochExamples) / max(1e-9, elapsed), seconds: elapsed)
            history.append(record)
            let score = report.means["ndcg@10"] ?? 0
            let improved = score > bestScore
            if improved {
                bestScore = score
                best = model
                bestEpoch = epoch
                sinceBest = 0
            } else {
                sinceBest += 1
            }
            observe(.epoch(record, best: improved))
            if interrupted || sinceBest >= settings.patience { break epochs }
        }
        let flopsPerExample = 3 * snapshot().forwardFLOPsPerRow - 2 * Double(sizes[0] * sizes[1])
        let perSecond = Double(examples) / max(1e-9, trainSeconds)
        return TrainingOutcome(
            model: best, history: history, bestEpoch: bestEpoch, interrupted: interrupted, examplesPerSecond: perSecond,
            gflops: perSecond * flopsPerExample / 1e9, seconds: Self.seconds(ContinuousClock.now - started))
    }

    static func seconds(_ d: Duration) -> Double {
        d.seconds
    }
}
