/// The element-wise steps of the training and scoring loops, written with SIMD vectors so that they run at
/// memory speed beside the OpenBLAS products.
enum VectorOps {
    typealias V = SIMD16<Float>

    /// `x[i] = a[i] > 0 ? x[i] : 0` (the ReLU derivative applied to a gradient).
    @inline(__always)
    static func reluMask(_ x: UnsafeMutablePointer<Float>, by a: UnsafePointer<Float>, count: Int) {
        var i = 0
        let rx = UnsafeMutableRawPointer(x)
        let ra = UnsafeRawPointer(a)
        while i + 16 <= count {
            let av = ra.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            var xv = rx.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            xv.replace(with: 0, where: av .<= 0)
            rx.storeBytes(of: xv, toByteOffset: i * 4, as: V.self)
            i += 16
        }
        while i < count {
            if a[i] <= 0 { x[i] = 0 }
            i += 1
        }
    }

    /// Adds a bias to every row of `rows × n` values, then applies ReLU when asked.
    @inline(__always)
    static func addBias(_ o: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, n: Int, relu: Bool) {
        if n == 1 {
            let b = bias[0]
            for r in 0..<rows { o[r] = relu ? max(0, o[r] + b) : o[r] + b }
            return
        }
        let vectors = n / 16
        let rb = UnsafeRawPointer(bias)
        for r in 0..<rows {
            let row = UnsafeMutableRawPointer(o + r * n)
            for v in 0..<vectors {
                var x =
                    row.loadUnaligned(fromByteOffset: v * 64, as: V.self) + rb.loadUnaligned(fromByteOffset: v * 64, as: V.self)
                if relu { x.replace(with: 0, where: x .< 0) }
                row.storeBytes(of: x, toByteOffset: v * 64, as: V.self)
            }
            let tail = o + r * n
            for j in (vectors * 16)..<n {
                let x = tail[j] + bias[j]
                tail[j] = relu ? max(0, x) : x
            }
        }
    }

    /// `x[i] = (x[i] - mean[j]) * scale[j]` over rows of width `d`.
    @inline(__always)
    static func standardize(
        _ src: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, rows: Int, d: Int,
        mean: UnsafePointer<Float>, scale: UnsafePointer<Float>
    ) {
        for r in 0..<rows {
            let s = src + r * d
            let o = x + r * d
            for j in 0..<d { o[j] = (s[j] - mean[j]) * scale[j] }
        }
    }
}
