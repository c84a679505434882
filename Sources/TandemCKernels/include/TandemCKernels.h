#ifndef TANDEM_CKERNELS_H
#define TANDEM_CKERNELS_H

#include <stddef.h>

/// The scorer's dense layer, batch-invariant by construction (docs/parity.md).
///
/// Every output is computed the same way whatever the number of rows, the row's position, the CPU or the
/// BLAS library: `acc = +0; for i in 0..<k: acc = fma(x[i], w[i][j], acc)` (one fused multiply-add per term,
/// `i` ascending), then `acc + bias[j]`, then ReLU (`v < 0 ? 0 : v`) when asked. Rows never interact, so a
/// row's score is the same bits alone, in a request or in a batch of millions; the instruction set only
/// changes how many outputs are computed at once, never the arithmetic of one.

/// Floats `tandem_dense_pack` writes for a `k × n` weight matrix: `k` times `n` rounded up to 16.
size_t tandem_dense_packed_count(int k, int n);

/// Packs row-major weights `w` (`k × n`) into panels of 16 columns (`k × 16` floats each, zero padded).
void tandem_dense_pack(const float *w, int k, int n, float *packed);

/// Packs the transpose of row-major `w` (`k × n`): the panels of `wᵀ` (`n × k`), for products with `wᵀ`.
void tandem_dense_pack_transposed(const float *w, int k, int n, float *packed);

/// `out[r·ldo + j] = act(Σ_i x[r·ldx + i] · w[i][j] + bias[j])` for `r < rows`, `j < n`, with `w` packed.
void tandem_dense_forward(
    const float *x, int ldx, int rows, int k, const float *packed, int n, const float *bias, int relu, float *out,
    int ldo);

/// The code path in use: 0 generic (scalar fmaf), 1 AVX2 + FMA, 2 AVX-512F.
int tandem_dense_isa(void);

/// Chooses the code path (for tests and benchmarks): -1 picks the best this CPU runs; a path the CPU cannot run
/// falls back to the best it can. Returns the path now in use.
int tandem_dense_set_isa(int isa);

/// The best path this CPU (and its operating system) can run.
int tandem_dense_best_isa(void);

#endif
