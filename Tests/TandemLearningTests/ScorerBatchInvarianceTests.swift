import Foundation
import Testing

@testable import TandemLearning

@Suite("Scorer batch invariance")
struct ScorerBatchInvarianceTests {
    @Test(
        "a row's score is the same bits whether it is scored alone, in a request or in a batch",
        arguments: [[256, 128], [384, 128], [64], [512, 256, 64], []])
    func invariance(hidden: [Int]) {
        let width = 56
        var rng = SeededNormal(seed: 99)
        let rows = 2100
        let features = (0..<(rows * width)).map { _ in Float(rng.next()) }
        let sizes = [width] + hidden + [1]
        let model = RankerModel(
            kind: hidden.isEmpty ? .linear : .mlp, sizes: sizes, parameters: RankerModel.initialParameters(sizes: sizes, seed: 5),
            mean: [Float](repeating: 0.1, count: width), scale: [Float](repeating: 0.9, count: width),
            signature: ModelSignature(
                featureSet: "x", featureSetVersion: 1, featureTable: "x@1",
                features: (0..<width).map { .init(name: "f\($0)", type: "float32") }))
        let scorer = Scorer(model: model)
        let batch = scorer.score(features, rows: rows)
        var mismatches = 0
        for n in [1, 2, 3, 7, 16, 30, 31, 33, 64, 100, 257, 1000] {
            for start in stride(from: 0, to: rows - n, by: 577) {
                let part = scorer.score(Array(features[(start * width)..<((start + n) * width)]), rows: n)
                for k in 0..<n where part[k].bitPattern != batch[start + k].bitPattern { mismatches += 1 }
            }
        }
        #expect(mismatches == 0, "hidden \(hidden): \(mismatches) scores differ with the batch size")
    }
}
