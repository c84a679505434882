import Dispatch
import TandemCKernels

/// Scores rows with a model: standardises them and runs the forward pass through Tandem's own dense kernel,
/// reusing its buffers, so scoring allocates nothing after the first call of a given size.
///
/// **Batch-invariant by construction** (docs/parity.md): every activation is one chain of fused multiply-adds
/// over its inputs in ascending order, then the bias, then ReLU. Rows never interact and the order of a row's
/// additions never depends on how many rows are scored, where the row sits, the CPU's vector width or the BLAS
/// library, so a row's score is the same bits alone, in a 30-candidate request, in a batch of millions, on one
/// thread or several, on any machine.
public final class Scorer {
    public let model: RankerModel
    /// Threads a large batch is spread over (rows are independent, so the bits do not depend on it).
    public let threads: Int
    private let network: PackedNetwork
    private var workspaces: [Workspace] = []

    /// Rows per block: a block's activations stay in the core's caches.
    static let block = 48

    public init(model: RankerModel, threads: Int = 1) {
        self.model = model
        self.threads = max(1, threads)
        network = PackedNetwork(model)
    }

    /// Scores `rows` rows of raw features (row-major, the model's width), writing one score per row.
    public func score(_ features: UnsafePointer<Float>, rows: Int, into scores: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        let blocks = (rows + Self.block - 1) / Self.block
        let parallel = min(threads, blocks)
        while workspaces.count < parallel { workspaces.append(Workspace(sizes: model.sizes, rows: Self.block)) }
        if parallel == 1 {
            for b in 0..<blocks { network.score(block: b, of: rows, features, scores, workspaces[0]) }
            return
        }
        let spaces = workspaces
        let network = network
        let input = UnsafeSendable(features)
        let output = UnsafeSendable(scores)
        DispatchQueue.concurrentPerform(iterations: parallel) { w in
            for b in stride(from: w, to: blocks, by: parallel) {
                network.score(block: b, of: rows, input.pointer, output.pointer, spaces[w])
            }
        }
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

/// A model's layers as the kernel reads them: weights packed in panels, biases, the standardisation.
struct PackedNetwork: Sendable {
    let sizes: [Int]
    let packed: [FloatBuffer]
    let biases: [FloatBuffer]
    let mean: FloatBuffer
    let scale: FloatBuffer

    init(_ model: RankerModel) {
        sizes = model.sizes
        var packed: [FloatBuffer] = []
        var biases: [FloatBuffer] = []
        for l in 1..<model.sizes.count {
            let (w, b) = model.offsets(layer: l)
            let k = model.sizes[l - 1]
            let n = model.sizes[l]
            let buffer = FloatBuffer(count: tandem_dense_packed_count(Int32(k), Int32(n)))
            model.parameters.withUnsafeBufferPointer { p in
                if let base = p.baseAddress { tandem_dense_pack(base + w, Int32(k), Int32(n), buffer.pointer) }
            }
            packed.append(buffer)
            biases.append(FloatBuffer(Array(model.parameters[b..<(b + n)])))
        }
        self.packed = packed
        self.biases = biases
        mean = FloatBuffer(model.mean)
        scale = FloatBuffer(model.scale)
    }

    /// Scores block `b` (rows `b·block ..< min((b+1)·block, rows)`) in one thread's workspace.
    func score(
        block b: Int, of rows: Int, _ features: UnsafePointer<Float>, _ scores: UnsafeMutablePointer<Float>,
        _ space: Workspace
    ) {
        let d = sizes[0]
        let start = b * Scorer.block
        let n = min(Scorer.block, rows - start)
        VectorOps.standardize(
            features + start * d, into: space.input.pointer, rows: n, d: d, mean: mean.pointer, scale: scale.pointer)
        let last = sizes.count - 1
        for l in 1...last {
            let nIn = sizes[l - 1]
            let nOut = sizes[l]
            let previous = l == 1 ? space.input.pointer : space.activations[l - 2].pointer
            tandem_dense_forward(
                previous, Int32(nIn), Int32(n), Int32(nIn), packed[l - 1].pointer, Int32(nOut), biases[l - 1].pointer,
                l < last ? 1 : 0, space.activations[l - 1].pointer, Int32(nOut))
        }
        (scores + start).update(from: space.activations[last - 1].pointer, count: n)
    }
}

/// One thread's buffers for a block of rows: the standardised input and each layer's output.
final class Workspace: @unchecked Sendable {
    let input: FloatBuffer
    let activations: [FloatBuffer]

    init(sizes: [Int], rows: Int) {
        input = FloatBuffer(count: rows * sizes[0])
        activations = sizes.dropFirst().map { FloatBuffer(count: rows * $0) }
    }
}

/// The instruction set the scorer's kernel runs with (the bits are the same on each; tests compare them).
public enum ScoringKernel: Int32, Sendable, CaseIterable, CustomStringConvertible {
    /// Scalar `fmaf`: any CPU.
    case generic = 0
    /// 8-wide fused multiply-adds (x86-64 with AVX2 and FMA).
    case avx2 = 1

    /// The path in use (the best this CPU runs, unless `TANDEM_KERNEL=generic` or `use` chose another).
    public static var current: ScoringKernel { ScoringKernel(rawValue: tandem_dense_isa()) ?? .generic }
    /// The best path this CPU runs.
    public static var best: ScoringKernel { ScoringKernel(rawValue: tandem_dense_best_isa()) ?? .generic }

    /// Chooses a path for this process (falls back to the best the CPU runs); returns the one in use.
    @discardableResult
    public static func use(_ kernel: ScoringKernel?) -> ScoringKernel {
        ScoringKernel(rawValue: tandem_dense_set_isa(kernel?.rawValue ?? -1)) ?? .generic
    }

    public var description: String {
        switch self {
        case .generic: "generic"
        case .avx2: "avx2+fma"
        }
    }
}

/// A pointer handed to the threads of one call that write disjoint parts of it.
struct UnsafeSendable<P>: @unchecked Sendable {
    let pointer: P
    init(_ pointer: P) { self.pointer = pointer }
}
