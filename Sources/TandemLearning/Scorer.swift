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
    /// Products run on a multiple of this many rows (the tail zero-padded): measured on OpenBLAS 0.3.21, every
    /// multiple of 32 rows gives the same bits per row, while sizes such as 30 take another kernel whose
    /// additions round differently.
    static let rowMultiple = 32

    /// Rows each product runs on (tests vary it to find which sizes give the same bits).
    var blockRows = Scorer.block

    /// Scores `rows` rows of raw features (row-major, the model's width), writing one score per row.
    public func score(_ features: UnsafePointer<Float>, rows: Int, into scores: UnsafeMutablePointer<Float>) {
        var start = 0
        while start < rows {
            let n = min(blockRows, rows - start)
            scoreBlock(features + start * model.sizes[0], rows: n, into: scores + start)
            start += n
        }
    }

    /// Scores one block. The products run on a multiple of 32 rows (the tail zero-padded): OpenBLAS picks its
    /// kernel, and so its order of additions, from the matrix sizes, and padding is what makes a row's score the
    /// same bits whether it is scored alone, in a 30-candidate request or in a batch of millions.

    private func scoreBlock(_ features: UnsafePointer<Float>, rows: Int, into scores: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        let m = (rows + Self.rowMultiple - 1) / Self.rowMultiple * Self.rowMultiple

        reserve(rows: m)
        let d = model.sizes[0]
        VectorOps.standardize(features, into: input.pointer, rows: rows, d: d, mean: mean.pointer, scale: scale.pointer)
        if rows < m { (input.pointer + rows * d).update(repeating: 0, count: (m - rows) * d) }
        let last = model.sizes.count - 1
        let p = parameters.pointer
        for l in 1...last {
            let (w, b) = model.offsets(layer: l)
            let nIn = model.sizes[l - 1]
            let nOut = model.sizes[l]
            let previous = l == 1 ? input.pointer : activations[l - 2].pointer
            let o = activations[l - 1].pointer
            BLAS.gemm(m: m, n: nOut, k: nIn, a: previous, lda: nIn, b: p + w, ldb: nOut, c: o, ldc: nOut)
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
