import TandemCOpenBLAS

/// The dense math Tandem uses, on OpenBLAS (float32, row-major). C types stay in this file.
public enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C`, row-major; `op(A)` is m×k, `op(B)` is k×n.
    @inline(__always)
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `y = alpha · op(A) · x + beta · y`, row-major; A is m×n.
    @inline(__always)
    public static func gemv(
        trans: Bool = false, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
        beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// `A += alpha · x · yᵀ`, row-major; A is m×n.
    @inline(__always)
    public static func ger(
        m: Int, n: Int, alpha: Float = 1, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
        a: UnsafeMutablePointer<Float>, lda: Int
    ) {
        cblas_sger(CblasRowMajor, Int32(m), Int32(n), alpha, x, 1, y, 1, a, Int32(lda))
    }

    /// Sets how many threads OpenBLAS uses (the trainer's thread count; results are deterministic for a given count).
    public static func setThreads(_ n: Int) {
        tandem_openblas_set_threads(Int32(max(1, n)))
    }
}

/// The numeric environment a model was trained or scored in: which BLAS library and version, which of its
/// kernels (the core type OpenBLAS picked for this CPU, or `OPENBLAS_CORETYPE`), with how many threads, and
/// which path the scorer's own kernel took. Recorded in runs and artifacts: "byte-identical artifacts" holds
/// for the same inputs, thread count and kernel, and when digests differ this says why.
public struct NumericEnvironment: Sendable, Codable, Equatable {
    /// The BLAS library and version, as in "OpenBLAS 0.3.21".
    public var blas: String
    /// The library's full build configuration string.
    public var blasConfig: String
    /// The kernel the library runs (OpenBLAS's core name: "Haswell", "Zen", "SkylakeX", "Sandybridge", …).
    public var blasCore: String
    /// Threads of the training loop.
    public var threads: Int
    /// The scorer kernel's path (the bits do not depend on it).
    public var scoringKernel: String

    enum CodingKeys: String, CodingKey {
        case blas, threads
        case blasConfig = "blas_config"
        case blasCore = "blas_core"
        case scoringKernel = "scoring_kernel"
    }

    /// This process's environment, for a training with `threads` threads.
    public static func current(threads: Int) -> NumericEnvironment {
        let config = String(cString: tandem_openblas_config())
        let words = config.split(separator: " ")
        let blas = words.count >= 2 ? "\(words[0]) \(words[1])" : config
        return NumericEnvironment(
            blas: blas, blasConfig: config, blasCore: String(cString: tandem_openblas_corename()), threads: threads,
            scoringKernel: ScoringKernel.current.description)
    }

    /// Why two trainings of the same inputs can give different bytes, in words ("OpenBLAS core Haswell vs Zen"),
    /// or nil when their numeric environments agree on everything that changes the bits.
    public func difference(from other: NumericEnvironment) -> String? {
        var parts: [String] = []
        if blas != other.blas { parts.append("\(blas) vs \(other.blas)") }
        if blasCore != other.blasCore { parts.append("OpenBLAS core \(blasCore) vs \(other.blasCore)") }
        if threads != other.threads { parts.append("\(threads) vs \(other.threads) threads") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}
