// The scorer's dense layer, batch-invariant by construction: see TandemCKernels.h and docs/parity.md.
//
// Each output element is one chain of fused multiply-adds over the inputs in ascending order, started from +0,
// then one addition of the bias and the ReLU. A fused multiply-add is exactly rounded (IEEE 754), so the chain
// gives the same bits whether the hardware does it (AVX2's vfmadd231ps) or libm does (fmaf on a CPU without
// FMA), and whatever other rows or columns are computed beside it. Nothing here may be contracted or
// reassociated by the compiler.
#pragma STDC FP_CONTRACT OFF

#include "TandemCKernels.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define TANDEM_X86 1
#include <cpuid.h>
#include <immintrin.h>
#define TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define TANDEM_X86 0
#endif

enum { PANEL = 16, TILE_ROWS = 6 };

size_t tandem_dense_packed_count(int k, int n) {
    size_t panels = (size_t)((n + PANEL - 1) / PANEL);
    return panels * (size_t)PANEL * (size_t)k;
}

void tandem_dense_pack(const float *w, int k, int n, float *packed) {
    int panels = (n + PANEL - 1) / PANEL;
    for (int q = 0; q < panels; q++) {
        float *p = packed + (size_t)q * PANEL * (size_t)k;
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < PANEL; j++) {
                int c = q * PANEL + j;
                p[(size_t)i * PANEL + j] = c < n ? w[(size_t)i * (size_t)n + (size_t)c] : 0.0f;
            }
        }
    }
}

void tandem_dense_pack_transposed(const float *w, int k, int n, float *packed) {
    // wᵀ is n × k: its row i is column i of w; its panels hold 16 of its columns, i.e. 16 rows of w.
    int panels = (k + PANEL - 1) / PANEL;
    for (int q = 0; q < panels; q++) {
        float *p = packed + (size_t)q * PANEL * (size_t)n;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < PANEL; j++) {
                int c = q * PANEL + j;
                p[(size_t)i * PANEL + j] = c < k ? w[(size_t)c * (size_t)n + (size_t)i] : 0.0f;
            }
        }
    }
}

// MARK: The generic path (any CPU): fmaf, exactly rounded in hardware or in software.

static void generic_tile(
    const float *x, int ldx, int rows, int k, const float *p, const float *b16, int relu, float *out, int ldo, int cols) {
    float acc[TILE_ROWS][PANEL];
    for (int r = 0; r < rows; r++) {
        for (int j = 0; j < PANEL; j++) acc[r][j] = 0.0f;
    }
    for (int i = 0; i < k; i++) {
        const float *w = p + (size_t)i * PANEL;
        for (int r = 0; r < rows; r++) {
            float xv = x[(size_t)r * (size_t)ldx + (size_t)i];
            for (int j = 0; j < PANEL; j++) acc[r][j] = fmaf(xv, w[j], acc[r][j]);
        }
    }
    for (int r = 0; r < rows; r++) {
        for (int j = 0; j < cols; j++) {
            float v = acc[r][j] + b16[j];
            out[(size_t)r * (size_t)ldo + (size_t)j] = (relu && v < 0.0f) ? 0.0f : v;
        }
    }
}

// MARK: The AVX2 + FMA path: 6 rows × 16 columns in twelve 8-wide accumulators.

#if TANDEM_X86
TARGET_AVX2 static inline __attribute__((always_inline)) void avx2_tile(
    const float *x, int ldx, const int rows, int k, const float *p, const float *b16, int relu, float *out, int ldo,
    int cols) {
    __m256 a0[TILE_ROWS], a1[TILE_ROWS];
    for (int r = 0; r < rows; r++) {
        a0[r] = _mm256_setzero_ps();
        a1[r] = _mm256_setzero_ps();
    }
    for (int i = 0; i < k; i++) {
        __m256 w0 = _mm256_loadu_ps(p + (size_t)i * PANEL);
        __m256 w1 = _mm256_loadu_ps(p + (size_t)i * PANEL + 8);
        for (int r = 0; r < rows; r++) {
            __m256 xv = _mm256_broadcast_ss(x + (size_t)r * (size_t)ldx + (size_t)i);
            a0[r] = _mm256_fmadd_ps(xv, w0, a0[r]);
            a1[r] = _mm256_fmadd_ps(xv, w1, a1[r]);
        }
    }
    __m256 b0 = _mm256_loadu_ps(b16), b1 = _mm256_loadu_ps(b16 + 8), zero = _mm256_setzero_ps();
    for (int r = 0; r < rows; r++) {
        __m256 v0 = _mm256_add_ps(a0[r], b0), v1 = _mm256_add_ps(a1[r], b1);
        if (relu) {
            v0 = _mm256_blendv_ps(v0, zero, _mm256_cmp_ps(v0, zero, _CMP_LT_OQ));
            v1 = _mm256_blendv_ps(v1, zero, _mm256_cmp_ps(v1, zero, _CMP_LT_OQ));
        }
        float *o = out + (size_t)r * (size_t)ldo;
        if (cols == PANEL) {
            _mm256_storeu_ps(o, v0);
            _mm256_storeu_ps(o + 8, v1);
        } else {
            float t[PANEL];
            _mm256_storeu_ps(t, v0);
            _mm256_storeu_ps(t + 8, v1);
            memcpy(o, t, (size_t)cols * sizeof(float));
        }
    }
}

TARGET_AVX2 static void avx2_tile_rows(
    const float *x, int ldx, int rows, int k, const float *p, const float *b16, int relu, float *out, int ldo, int cols) {
    // One specialisation per row count, so the accumulators live in registers.
    switch (rows) {
    case 6: avx2_tile(x, ldx, 6, k, p, b16, relu, out, ldo, cols); break;
    case 5: avx2_tile(x, ldx, 5, k, p, b16, relu, out, ldo, cols); break;
    case 4: avx2_tile(x, ldx, 4, k, p, b16, relu, out, ldo, cols); break;
    case 3: avx2_tile(x, ldx, 3, k, p, b16, relu, out, ldo, cols); break;
    case 2: avx2_tile(x, ldx, 2, k, p, b16, relu, out, ldo, cols); break;
    case 1: avx2_tile(x, ldx, 1, k, p, b16, relu, out, ldo, cols); break;
    default: break;
    }
}

static int cpu_runs_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx || !fma) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) return 0;  // the OS saves XMM and YMM state
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 5) & 1;
}
#endif

// MARK: Dispatch

typedef void (*tile_fn)(const float *, int, int, int, const float *, const float *, int, float *, int, int);

int tandem_dense_best_isa(void) {
#if TANDEM_X86
    static _Atomic int best = -1;
    int b = atomic_load_explicit(&best, memory_order_relaxed);
    if (b < 0) {
        b = cpu_runs_avx2() ? 1 : 0;
        atomic_store_explicit(&best, b, memory_order_relaxed);
    }
    return b;
#else
    return 0;
#endif
}

static _Atomic int chosen = -1;

static int initial_isa(void) {
    int isa = tandem_dense_best_isa();
    const char *forced = getenv("TANDEM_KERNEL");
    if (forced && strcmp(forced, "generic") == 0) isa = 0;
    return isa;
}

int tandem_dense_isa(void) {
    int isa = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (isa < 0) {
        isa = initial_isa();
        atomic_store_explicit(&chosen, isa, memory_order_relaxed);
    }
    return isa;
}

int tandem_dense_set_isa(int isa) {
    int best = tandem_dense_best_isa();
    int next = (isa < 0 || isa > best) ? best : isa;
    atomic_store_explicit(&chosen, next, memory_order_relaxed);
    return next;
}

static tile_fn tile_for(int isa) {
#if TANDEM_X86
    if (isa == 1) return avx2_tile_rows;
#else
    (void)isa;
#endif
    return generic_tile;
}

void tandem_dense_forward(
    const float *x, int ldx, int rows, int k, const float *packed, int n, const float *bias, int relu, float *out,
    int ldo) {
    tile_fn tile = tile_for(tandem_dense_isa());
    int panels = (n + PANEL - 1) / PANEL;
    for (int r0 = 0; r0 < rows; r0 += TILE_ROWS) {
        int rs = rows - r0 < TILE_ROWS ? rows - r0 : TILE_ROWS;
        for (int q = 0; q < panels; q++) {
            int cols = n - q * PANEL < PANEL ? n - q * PANEL : PANEL;
            float b16[PANEL] = {0};
            memcpy(b16, bias + (size_t)q * PANEL, (size_t)cols * sizeof(float));
            tile(
                x + (size_t)r0 * (size_t)ldx, ldx, rs, k, packed + (size_t)q * PANEL * (size_t)k, b16, relu,
                out + (size_t)r0 * (size_t)ldo + (size_t)q * PANEL, ldo, cols);
        }
    }
}
