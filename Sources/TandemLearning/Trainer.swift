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
    private let train: RankingDataset
    private let validation: RankingDataset
    private let sizes: [Int]
    private let mean: [Float]
    private let scale: [Float]
    /// Standardised training features.
    private let xs: FloatBuffer
    private let maxRows: Int

    // Workspaces: the parameters and Adam's moments, and one worker per thread, each with its own
    // activations and gradients for its share of a batch's queries.
    private let params: FloatBuffer
    private let adamM: FloatBuffer
    private let adamV: FloatBuffer
    private let workers: [Worker]
    /// Each layer's weights packed for the dense kernel, refreshed once per step (the forward pass).
    private let packed: [FloatBuffer]
    /// Each layer's weights transposed and packed, for the backward pass's `delta · Wᵀ`; zeros for its bias.
    private let packedTransposed: [FloatBuffer]
    private let zeros: FloatBuffer
    private var adamStep = 0
    /// Steps of the whole run (every epoch up to `maxEpochs`), for the learning-rate schedule.
    private var totalSteps = 1

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

    /// One Adam step on a batch of queries; returns the mean loss of its queries and its row count.
    ///
    /// With several threads, the batch's queries are split into contiguous shares, one per worker; each worker
    /// runs the forward and backward passes of its share on one OpenBLAS thread, and the gradients are summed
    /// in worker order, so a given thread count always gives the same bits.
    func trainStep(_ batch: ArraySlice<Int>) -> (Double, Int) {
        let shares = workers.count
        // Contiguous shares of the batch's queries with about the same number of rows each.
        var bounds = [batch.startIndex]
        if shares > 1 {
            let total = batch.reduce(0) { $0 + train.groups.range($1).count }
            var sum = 0
            for i in batch.indices {
                sum += train.groups.range(batch[i]).count
                if bounds.count < shares && sum * shares >= total * bounds.count { bounds.append(i + 1) }
            }
        }
        while bounds.count < shares + 1 { bounds.append(batch.endIndex) }
        let all = workers
        packWeights()
        let parts = bounds
        if shares == 1 {
            gather(batch, into: workers[0])
            computeLoss(workers[0])
        } else {
            DispatchQueue.concurrentPerform(iterations: shares) { w in
                self.gather(batch[parts[w]..<max(parts[w], parts[w + 1])], into: all[w])
                self.computeLoss(all[w])
            }
        }
        let counted = workers.reduce(0) { $0 + $1.counted }
        let rows = workers.reduce(0) { $0 + $1.rows }
        guard counted > 0 else { return (.nan, rows) }
        let norm = 1 / Float(counted)
        if shares == 1 {
            finishWorker(workers[0], norm: norm)
        } else {
            DispatchQueue.concurrentPerform(iterations: shares) { w in self.finishWorker(all[w], norm: norm) }
        }
        let count = RankerModel.parameterCount(sizes)
        let total = workers[0].grads.pointer
        for worker in workers.dropFirst() {
            let g = worker.grads.pointer
            for i in 0..<count { total[i] += g[i] }
        }
        adam(total)
        return (workers.reduce(0.0) { $0 + $1.lossSum } / Double(counted), rows)
    }

    /// Copies a share's rows and labels into a worker.
    private func gather(_ share: ArraySlice<Int>, into worker: Worker) {
        let d = train.width
        var rows = 0
        worker.groupStarts.removeAll(keepingCapacity: true)
        train.labels.withUnsafeBufferPointer { labels in
            for g in share {
                let range = train.groups.range(g)
                worker.groupStarts.append(rows)
                (worker.batchX.pointer + rows * d).update(from: xs.pointer + range.lowerBound * d, count: range.count * d)
                for (k, r) in range.enumerated() { worker.batchLabels[rows + k] = labels[r] }
                rows += range.count
            }
        }
        worker.groupStarts.append(rows)
        worker.rows = rows
    }

    /// Runs the forward pass of a worker's share and counts its queries with relevant items; the loss itself is
    /// computed in `finishWorker`, once the batch's count of such queries is known.
    private func computeLoss(_ worker: Worker) {
        var counted = 0
        for q in 0..<(worker.groupStarts.count - 1) {
            for i in worker.groupStarts[q]..<worker.groupStarts[q + 1] where worker.batchLabels[i] > 0 {
                counted += 1
                break
            }
        }
        worker.counted = counted
    }

    /// Forward pass, ListNet loss and gradient (scaled by `norm`, 1 / queries counted in the batch), backward pass.
    private func finishWorker(_ worker: Worker, norm: Float) {
        let rows = worker.rows
        worker.grads.zero()
        worker.lossSum = 0
        guard rows > 0 else { return }
        forward(worker)
        let last = sizes.count - 1
        let scores = worker.activations[last - 1].pointer
        let ds = worker.deltas[last - 1].pointer
        let labels = worker.batchLabels
        var lossSum = 0.0
        for q in 0..<(worker.groupStarts.count - 1) {
            let lo = worker.groupStarts[q]
            let hi = worker.groupStarts[q + 1]
            var targetSum = 0.0
            for i in lo..<hi { targetSum += Double((1 << Int(labels[i])) - 1) }
            guard targetSum > 0 else {
                for i in lo..<hi { ds[i] = 0 }
                continue
            }
            var top = -Float.infinity
            for i in lo..<hi { top = max(top, scores[i]) }
            var z = 0.0
            for i in lo..<hi { z += exp(Double(scores[i] - top)) }
            let logZ = log(z) + Double(top)
            var loss = 0.0
            for i in lo..<hi {
                let target = Double((1 << Int(labels[i])) - 1) / targetSum
                let logP = Double(scores[i]) - logZ
                loss -= target * logP
                ds[i] = Float(exp(logP) - target) * norm
            }
            lossSum += loss
        }
        worker.lossSum = lossSum
        backward(worker)
    }

    private func forward(_ worker: Worker) {
        let rows = worker.rows
        let p = params.pointer
        let last = sizes.count - 1
        for l in 1...last {
            let (w, b) = RankerModel.offsets(sizes: sizes, layer: l)
            let nIn = sizes[l - 1]
            let nOut = sizes[l]
            let previous = l == 1 ? worker.batchX.pointer : worker.activations[l - 2].pointer
            let o = worker.activations[l - 1].pointer
            _ = w
            tandem_dense_forward(
                previous, Int32(nIn), Int32(rows), Int32(nIn), packed[l - 1].pointer, Int32(nOut), p + b, l < last ? 1 : 0, o,
                Int32(nOut))
        }
    }

    /// Packs the current weights for the forward passes of this step.
    private func packWeights() {
        for l in 1..<sizes.count {
            let (w, _) = RankerModel.offsets(sizes: sizes, layer: l)
            tandem_dense_pack(params.pointer + w, Int32(sizes[l - 1]), Int32(sizes[l]), packed[l - 1].pointer)
            if l > 1 && sizes[l] > 1 {
                tandem_dense_pack_transposed(
                    params.pointer + w, Int32(sizes[l - 1]), Int32(sizes[l]), packedTransposed[l - 1].pointer)
            }
        }
    }

    private func backward(_ worker: Worker) {
        let rows = worker.rows
        let p = params.pointer
        let g = worker.grads.pointer
        let last = sizes.count - 1
        let ones = worker.ones.pointer
        for l in stride(from: last, through: 1, by: -1) {
            let (w, b) = RankerModel.offsets(sizes: sizes, layer: l)
            let nIn = sizes[l - 1]
            let nOut = sizes[l]
            let delta = worker.deltas[l - 1].pointer
            let input = l == 1 ? worker.batchX.pointer : worker.activations[l - 2].pointer
            // dW = inputᵀ · delta; db = deltaᵀ · 1.
            if nOut == 1 {
                BLAS.gemv(trans: true, m: rows, n: nIn, a: input, lda: nIn, x: delta, y: g + w)
            } else {
                BLAS.gemm(transA: true, m: nIn, n: nOut, k: rows, a: input, lda: nIn, b: delta, ldb: nOut, c: g + w, ldc: nOut)
            }
            BLAS.gemv(trans: true, m: rows, n: nOut, a: delta, lda: nOut, x: ones, y: g + b)
            if l > 1 {
                // delta_{l-1} = (delta · Wᵀ) ⊙ relu'(activation_{l-1}).
                let below = worker.deltas[l - 2].pointer
                if nOut == 1 {
                    below.update(repeating: 0, count: rows * nIn)
                    BLAS.ger(m: rows, n: nIn, x: delta, y: p + w, a: below, lda: nIn)
                } else {
                    tandem_dense_forward(
                        delta, Int32(nOut), Int32(rows), Int32(nOut), packedTransposed[l - 1].pointer, Int32(nIn),
                        zeros.pointer, 0, below, Int32(nIn))
                }
                VectorOps.reluMask(below, by: worker.activations[l - 2].pointer, count: rows * nIn)
            }
        }
    }

    private func adam(_ gradient: UnsafeMutablePointer<Float>) {
        adamStep += 1
        let count = RankerModel.parameterCount(sizes)
        let beta1: Float = 0.9
        let beta2: Float = 0.999
        let epsilon: Float = 1e-8
        let lr = Float(settings.learningRate * settings.schedule.factor(step: adamStep, of: totalSteps))
        let c1 = 1 / (1 - Float(pow(Double(beta1), Double(adamStep))))
        let c2 = 1 / (1 - Float(pow(Double(beta2), Double(adamStep))))
        let decay = Float(settings.learningRate * settings.weightDecay)
        let p = params.pointer
        let g = gradient
        let m = adamM.pointer
        let v = adamV.pointer
        for i in 0..<count {
            let gi = g[i]
            m[i] = beta1 * m[i] + (1 - beta1) * gi
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
            p[i] -= lr * (m[i] * c1) / ((v[i] * c2).squareRoot() + epsilon) + decay * p[i]
        }
    }

    static func seconds(_ d: Duration) -> Double {
        d.seconds
    }
}
