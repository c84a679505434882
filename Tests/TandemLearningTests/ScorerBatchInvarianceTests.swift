import Foundation
import Testing

@testable import TandemLearning

/// The scorer's parity contract (docs/parity.md): a row's score is the same bits whatever the batch, the
/// thread count, the kernel path or the BLAS library — and equals an independent scalar computation of the
/// documented arithmetic.
@Suite("Scorer batch invariance", .serialized)
struct ScorerBatchInvarianceTests {
    static let hiddenLayers: [[Int]] = [[256, 128], [384, 128], [64], [512, 256, 64], [], [17, 5]]

    static func model(hidden: [Int], width: Int = 56, seed: UInt64 = 5) -> RankerModel {
        let sizes = [width] + hidden + [1]
        var rng = SeededNormal(seed: seed &+ 11)
        var parameters = RankerModel.initialParameters(sizes: sizes, seed: seed)
        // Non-zero biases, so the bias step is exercised too.
        for l in 1..<sizes.count {
            let (_, b) = RankerModel.offsets(sizes: sizes, layer: l)
            for j in 0..<sizes[l] { parameters[b + j] = Float(rng.next() * 0.1) }
        }
        return RankerModel(
            kind: hidden.isEmpty ? .linear : .mlp, sizes: sizes, parameters: parameters,
            mean: (0..<width).map { Float($0) * 0.01 }, scale: (0..<width).map { 0.9 + Float($0) * 0.001 },
            signature: ModelSignature(
                featureSet: "x", featureSetVersion: 1, featureTable: "x@1",
                features: (0..<width).map { .init(name: "f\($0)", type: "float32") }))
    }

    static func features(rows: Int, width: Int = 56, seed: UInt64 = 99) -> [Float] {
        var rng = SeededNormal(seed: seed)
        return (0..<(rows * width)).map { _ in Float(rng.next()) }
    }

    /// The contract, computed one value at a time with Swift's own fused multiply-add: standardise
    /// (`(x − mean) · scale`), then per layer `acc = +0; acc = fma(x_i, w_ij, acc)` for i ascending, `+ bias`,
    /// ReLU between layers.
    static func reference(_ model: RankerModel, _ x: [Float], rows: Int) -> [Float] {
        let d = model.sizes[0]
        var out: [Float] = []
        for r in 0..<rows {
            var a = (0..<d).map { (x[r * d + $0] - model.mean[$0]) * model.scale[$0] }
            for l in 1..<model.sizes.count {
                let (w, b) = model.offsets(layer: l)
                let nIn = model.sizes[l - 1]
                let nOut = model.sizes[l]
                var next = [Float](repeating: 0, count: nOut)
                for j in 0..<nOut {
                    var acc: Float = 0
                    for i in 0..<nIn { acc = acc.addingProduct(a[i], model.parameters[w + i * nOut + j]) }
                    let v = acc + model.parameters[b + j]
                    next[j] = (l < model.sizes.count - 1 && v < 0) ? 0 : v
                }
                a = next
            }
            out.append(a[0])
        }
        return out
    }

    @Test("a row's score is the same bits alone, in a request or in a batch", arguments: hiddenLayers)
    func invariance(hidden: [Int]) {
        let width = 56
        let rows = 2100
        let features = Self.features(rows: rows)
        let scorer = Scorer(model: Self.model(hidden: hidden))
        let batch = scorer.score(features, rows: rows)
        var mismatches = 0
        for n in [1, 2, 3, 5, 6, 7, 16, 30, 31, 33, 47, 48, 49, 64, 100, 257, 1000] {
            for start in stride(from: 0, to: rows - n, by: 577) {
                let part = scorer.score(Array(features[(start * width)..<((start + n) * width)]), rows: n)
                for k in 0..<n where part[k].bitPattern != batch[start + k].bitPattern { mismatches += 1 }
            }
        }
        #expect(mismatches == 0, "hidden \(hidden): \(mismatches) scores differ with the batch size")
    }

    @Test("the scores equal an independent scalar computation of the documented arithmetic", arguments: hiddenLayers)
    func matchesReference(hidden: [Int]) {
        let rows = 61
        let features = Self.features(rows: rows, seed: 7)
        let model = Self.model(hidden: hidden)
        let expected = Self.reference(model, features, rows: rows)
        let got = Scorer(model: model).score(features, rows: rows)
        let differing = (0..<rows).filter { got[$0].bitPattern != expected[$0].bitPattern }
        #expect(differing.isEmpty, "hidden \(hidden): rows \(differing.prefix(5)) differ (\(ScoringKernel.current))")
    }

    @Test("every kernel path and thread count gives the same bits", arguments: hiddenLayers)
    func kernelsAndThreads(hidden: [Int]) {
        let rows = 1000
        let features = Self.features(rows: rows, seed: 3)
        let model = Self.model(hidden: hidden)
        defer { ScoringKernel.use(nil) }
        var results: [String: [UInt32]] = [:]
        for kernel in ScoringKernel.allCases where kernel.rawValue <= ScoringKernel.best.rawValue {
            ScoringKernel.use(kernel)
            for threads in [1, 2, 3] {
                results["\(kernel) × \(threads)"] = Scorer(model: model, threads: threads).score(features, rows: rows).map(
                    \.bitPattern)
            }
        }
        let baseline = results["generic × 1"]
        for (name, bits) in results { #expect(bits == baseline, "\(name) differs from generic × 1 (hidden \(hidden))") }
    }

    @Test("ReLU and the bias keep their documented edge cases: NaN passes, −0 stays, an all-zero row is the bias")
    func edgeCases() {
        let model = Self.model(hidden: [16])
        var features = Self.features(rows: 3, seed: 1)
        features[0] = .nan
        for j in 0..<56 { features[56 + j] = model.mean[j] }  // standardises to exactly zero
        let got = Scorer(model: model).score(features, rows: 3)
        let expected = Self.reference(model, features, rows: 3)
        #expect(got[0].isNaN && expected[0].isNaN)
        #expect(got[1].bitPattern == expected[1].bitPattern && got[2].bitPattern == expected[2].bitPattern)
    }
}
