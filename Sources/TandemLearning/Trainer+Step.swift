import Dispatch
import Foundation
import TandemCKernels
import TandemCore

/// One optimisation step: a mini-batch of whole queries split over the workers, the listwise loss, the forward
/// and backward passes (the C kernel for activations, OpenBLAS for the weight gradients) and Adam.
extension Trainer {
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
    func gather(_ share: ArraySlice<Int>, into worker: Worker) {
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
    func computeLoss(_ worker: Worker) {
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
    func finishWorker(_ worker: Worker, norm: Float) {
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

    func forward(_ worker: Worker) {
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
    func packWeights() {
        for l in 1..<sizes.count {
            let (w, _) = RankerModel.offsets(sizes: sizes, layer: l)
            tandem_dense_pack(params.pointer + w, Int32(sizes[l - 1]), Int32(sizes[l]), packed[l - 1].pointer)
            if l > 1 && sizes[l] > 1 {
                tandem_dense_pack_transposed(
                    params.pointer + w, Int32(sizes[l - 1]), Int32(sizes[l]), packedTransposed[l - 1].pointer)
            }
        }
    }

    func backward(_ worker: Worker) {
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

    func adam(_ gradient: UnsafeMutablePointer<Float>) {
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
}
