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
