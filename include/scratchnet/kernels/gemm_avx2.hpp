#pragma once
// scratchnet's own single-precision GEMM for AVX2 + FMA: C += alpha * op(A) * op(B),
// the AVX-512 kernel's design (kernels/gemm_avx512.hpp) at half the width.
//
// Why not Eigen's? Eigen's AVX kernel exists only in a build whose flags enable
// AVX; a consumer's plain build gets its SSE2 kernel at a third of the rate.
// This one is compiled in every x86-64 build, with a target attribute, and runs
// where the CPU has AVX2 and FMA (isa.hpp).
//
// op(B) is copied into panels of kNr columns, k-major, that stay in L1 while the
// row panels of op(A) pass over them; a plain op(A) (a weight matrix, column-major)
// is read in place, a transposed one is packed into panels of kMr rows first. A
// tile of 16 x 6 keeps twelve accumulators, two vectors of A and a broadcast of
// B in the sixteen vector registers.
//
// Every element of C is one FMA chain over k in order, started from zero, then
// scaled and added to C exactly as the AVX-512 kernel does it
// (fma(acc, alpha, C), or acc * alpha): the two kernels give the same bits, and
// a product computed in row or column slices equals the product computed whole.

#include "scratchnet/core.hpp"
#include "scratchnet/kernels/packed_gemm.hpp"
#include "scratchnet/kernels/targets.hpp"

#ifdef SCRATCHNET_X86_KERNELS
#include <algorithm>

namespace scratchnet::detail::avx2 {

inline constexpr Index kMr = 16;  // rows of a full A panel: two ymm registers
inline constexpr Index kNr = 6;   // columns of a B panel: 2 x 6 = 12 accumulators

/// Rows a panel starting at row i0 of m occupies once padded: 16, or 8 for a
/// short last panel.
inline Index panel_rows(Index m, Index i0) { return m - i0 > 8 ? kMr : 8; }

/// Scalars the packed op(A) takes: each panel is panel_rows x k.
inline Index packed_a_size(Index m, Index k) {
    Index size = 0;
    for (Index i0 = 0; i0 < m; i0 += kMr) size += panel_rows(m, i0) * k;
    return size;
}
/// Scalars the packed op(B) takes.
inline Index packed_b_size(Index n, Index k) { return (n + kNr - 1) / kNr * kNr * k; }

/// Whether the kernel reads the A panel at row i0 straight from the stored
/// matrix: only a plain op(A) whose panel is full.
inline bool a_in_place(bool transposed, Index m, Index i0) { return !transposed && m - i0 >= panel_rows(m, i0); }

/// Copies the panels of op(A) (m x k) that are not read in place into `out`, each
/// at its offset in the full packed layout. Transposed: op(A)(i, p) = a[i * lda + p];
/// otherwise op(A)(i, p) = a[i + p * lda].
inline void pack_a(bool transposed, Index m, Index k, const float* a, Index lda, float* out) {
    for (Index i0 = 0; i0 < m; i0 += kMr) {
        const Index width = panel_rows(m, i0);
        const Index rows = std::min(width, m - i0);
        if (a_in_place(transposed, m, i0)) {
            // the kernel reads this panel from a itself
        } else if (!transposed) {
            pack_plain_panel(a + i0, lda, rows, width, k, out);
        } else {
            // Row i of op(A) is a contiguous run of a: read along it.
            for (Index i = 0; i < width; ++i) {
                float* dst = out + i;
                if (i < rows) {
                    const float* src = a + (i0 + i) * lda;
                    for (Index p = 0; p < k; ++p) dst[p * width] = src[p];
                } else {
                    for (Index p = 0; p < k; ++p) dst[p * width] = 0.0f;
                }
            }
        }
        out += width * k;
    }
}

/// Copies op(B) (k x n, n <= kNr) into one panel of kNr columns, zero-padded.
/// Transposed: op(B)(p, j) = b[p * ldb + j]; otherwise op(B)(p, j) = b[p + j * ldb].
inline void pack_b(bool transposed, Index k, Index n, const float* b, Index ldb, float* out) {
    if (transposed) {
        for (Index p = 0; p < k; ++p) {
            Index j = 0;
            for (; j < n; ++j) out[p * kNr + j] = b[p * ldb + j];
            for (; j < kNr; ++j) out[p * kNr + j] = 0.0f;
        }
    } else {
        for (Index j = 0; j < kNr; ++j) {
            if (j < n) {
                const float* src = b + j * ldb;
                for (Index p = 0; p < k; ++p) out[p * kNr + j] = src[p];
            } else {
                for (Index p = 0; p < k; ++p) out[p * kNr + j] = 0.0f;
            }
        }
    }
}

/// Lanes [0, count) set, the others clear (count in [0, 8]; more sets all).
SCRATCHNET_TARGET_AVX2 inline __m256i lanes_below(Index count) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::min<Index>(count, 8))), lanes);
}

/// C tile (rows x cols, at most 8 V x kNr) = alpha * A tile * panel(B) (+ C when
/// accumulating), depth k. The A tile's column p starts at ap + p * a_step; row p
/// of the B panel at bp + p * b_step.
template <int V>
[[gnu::noinline]] SCRATCHNET_TARGET_AVX2 inline void micro_kernel(Index k, const float* ap, Index a_step,
                                                                  const float* bp, Index b_step, float* c, Index ldc,
                                                                  Index rows, Index cols, float alpha,
                                                                  bool accumulate) {
    __m256 acc[std::size_t{V}][kNr];
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v)
#pragma GCC unroll 16
        for (Index j = 0; j < kNr; ++j) acc[v][j] = _mm256_setzero_ps();
    for (Index p = 0; p < k; ++p) {
        __m256 a[std::size_t{V}];
#pragma GCC unroll 16
        for (int v = 0; v < V; ++v) a[v] = _mm256_loadu_ps(ap + 8 * v);
#pragma GCC unroll 16
        for (Index j = 0; j < kNr; ++j) {
            const __m256 b = _mm256_broadcast_ss(bp + j);
#pragma GCC unroll 16
            for (int v = 0; v < V; ++v) acc[v][j] = _mm256_fmadd_ps(a[v], b, acc[v][j]);
        }
        ap += a_step;
        bp += b_step;
    }
    const __m256 alphav = _mm256_set1_ps(alpha);
    // Unrolled over every column, each stored if it is C's: with a loop bound
    // known only at run time the compiler keeps acc in memory, not in registers.
#pragma GCC unroll 16
    for (Index j = 0; j < kNr; ++j) {
        if (j >= cols) break;
        float* cj = c + j * ldc;
#pragma GCC unroll 16
        for (int v = 0; v < V; ++v) {
            const Index left = rows - 8 * v;
            if (left >= 8) {
                const __m256 out = accumulate ? _mm256_fmadd_ps(acc[v][j], alphav, _mm256_loadu_ps(cj + 8 * v))
                                              : _mm256_mul_ps(acc[v][j], alphav);
                _mm256_storeu_ps(cj + 8 * v, out);
            } else if (left > 0) {
                const __m256i mask = lanes_below(left);
                const __m256 out = accumulate
                                       ? _mm256_fmadd_ps(acc[v][j], alphav, _mm256_maskload_ps(cj + 8 * v, mask))
                                       : _mm256_mul_ps(acc[v][j], alphav);
                _mm256_maskstore_ps(cj + 8 * v, mask, out);
            }
        }
    }
}

/// C (m x n, column-major, ldc) = alpha * op(A) * op(B), plus the old C when
/// accumulating: the shared loop of kernels/packed_gemm.hpp over this kernel's
/// panels (bpanel: packed_b_size(kNr, k) scalars; apack: from pack_a).
inline void gemm(bool a_transposed, bool b_transposed, Index m, Index n, Index k, const float* a, Index lda,
                 const float* apack, const float* b, Index ldb, float* bpanel, float* c, Index ldc, float alpha,
                 bool accumulate) {
    packed_gemm<kMr, kNr, &pack_b, &micro_kernel<2>, &micro_kernel<1>>(a_transposed, b_transposed, m, n, k, a, lda,
                                                                      apack, b, ldb, bpanel, c, ldc, alpha,
                                                                      accumulate);
}

}  // namespace scratchnet::detail::avx2

#endif
