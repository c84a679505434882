/// Scores rows with a model: standardises them and runs the forward pass on OpenBLAS, reusing its buffers,
/// so scoring allocates nothing after the first call of a given size.
public final class Scorer {
    public let model: RankerModel
    private let parameters: FloatBuffer
    private let mean: FloatBuffer
    private let scale: FloatBuffer
    private var input = FloatBuffer(count: 1)
    private var activations: [FloatBuffer] = []
    private var capacity = 0

    public init(model: RankerModel) {
        self.model = model
        parameters = FloatBuffer(model.parameters)
        mean = FloatBuffer(model.mean)
        scale = FloatBuffer(model.scale)
    }

    private func reserve(rows: Int) {
        guard rows > capacity else { return }
        capacity = max(rows, capacity * 2)
        input = FloatBuffer(count: capacity * model.sizes[0])
        activations = model.sizes.dropFirst().map { FloatBuffer(count: capacity * $0) }
    }

    /// Rows per block: a block's activations stay in the core's caches.
    static let block = 1024

    /// Scores `rows` rows of raw features (row-major, the model's width), writing one score per row.
    public func score(_ features: UnsafePointer<Float>, rows: Int, into scores: UnsafeMutablePointer<Float>) {
        var start = 0
        while start < rows {
            let n = min(Self.block, rows - start)
            scoreBlock(features + start * model.sizes[0], rows: n, into: scores + start)
            start += n
        }
    }

    private func scoreBlock(_ features: UnsafePointer<Float>, rows: Int, into scores: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        reserve(rows: rows)
        let d = model.sizes[0]
        VectorOps.standardize(features, into: input.pointer, rows: rows, d: d, mean: mean.pointer, scale: scale.pointer)
        let last = model.sizes.count - 1
        let p = parameters.pointer
        for l in 1...last {
            let (w, b) = model.offsets(layer: l)
            let nIn = model.sizes[l - 1]
            let nOut = model.sizes[l]
            let previous = l == 1 ? input.pointer : activations[l - 2].pointer
            let o = activations[l - 1].pointer
            BLAS.gemm(m: rows, n: nOut, k: nIn, a: previous, lda: nIn, b: p + w, ldb: nOut, c: o, ldc: nOut)
            VectorOps.addBias(o, p + b, rows: rows, n: nOut, relu: l < last)
        }
        scores.update(from: activations[last - 1].pointer, count: rows)
    }

    /// Scores rows given as an array.
    public func score(_ features: [Float], rows: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows)
        features.withUnsafeBufferPointer { f in
            out.withUnsafeMutableBufferPointer { o in
                if let fb = f.baseAddress, let ob = o.baseAddress { score(fb, rows: rows, into: ob) }
            }
        }
        return out
    }
}
