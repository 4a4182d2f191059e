#pragma once
// scratchnet's own single-precision GEMM for AVX-512: C += alpha * op(A) * op(B).
//
// Why not Eigen's? On cores with two 512-bit FMA pipes, Eigen 3.4's
// 3x4-register tile issues too few independent FMAs per load to keep both pipes
// busy. This kernel keeps a 32 x 12 tile of C in 24 zmm accumulators, so each
// load feeds more FMAs (the benchmark reports both kernels' rates side by side).
// It is compiled in every x86-64 build, with a target attribute, and runs where
// the CPU has AVX-512F (isa.hpp).
//
// The layout follows the classic packed-panel design (Goto; BLIS): op(B) is
// copied into panels of kNr columns and op(A) into panels of kMr rows, both
// k-major, so the micro-kernel reads both operands contiguously. A plain op(A)
// (a weight matrix, column-major) already is such a panel with a stride, so
// full panels of it are read in place. Padding rows and columns are zero and are
// never stored back.
//
// Every element of C is one FMA chain over k in order, started from zero, then
// added to C once: C(i,j) += alpha * sum_p op(A)(i,p) op(B)(p,j). The chain does not
// depend on where (i, j) falls in a tile or on how many columns a call has, so a
// product computed in column slices equals the product computed whole, bit for bit.

#include "scratchnet/core.hpp"
#include "scratchnet/kernels/packed_gemm.hpp"
#include "scratchnet/kernels/targets.hpp"

#ifdef SCRATCHNET_X86_KERNELS
#include <algorithm>

namespace scratchnet::detail::avx512 {

inline constexpr Index kMr = 32;  // rows of a full A panel: two zmm registers
inline constexpr Index kNr = 12;  // columns of a B panel: 2 x 12 = 24 accumulators

// The plain forms of these shuffles leave their unused source undefined, which
// g++ 12 reports as used uninitialised once inlined into a target-attributed
// function (its PR 105593); the masked forms, with every lane selected, are the
// same instructions with a defined source.
SCRATCHNET_TARGET_AVX512 inline __m512 unpacklo(__m512 a, __m512 b) { return _mm512_mask_unpacklo_ps(a, 0xFFFF, a, b); }
SCRATCHNET_TARGET_AVX512 inline __m512 unpackhi(__m512 a, __m512 b) { return _mm512_mask_unpackhi_ps(a, 0xFFFF, a, b); }
SCRATCHNET_TARGET_AVX512 inline __m512d unpacklo(__m512d a, __m512d b) { return _mm512_mask_unpacklo_pd(a, 0xFF, a, b); }
SCRATCHNET_TARGET_AVX512 inline __m512d unpackhi(__m512d a, __m512d b) { return _mm512_mask_unpackhi_pd(a, 0xFF, a, b); }
template <int Imm>
SCRATCHNET_TARGET_AVX512 inline __m512 shuffle_lanes(__m512 a, __m512 b) {
    return _mm512_mask_shuffle_f32x4(a, 0xFFFF, a, b, Imm);
}

/// In-register transpose: afterwards r[c] holds what was column c of the 16 rows r.
/// Three rounds: interleave pairs of rows, then pairs of pairs, then 128-bit lanes.
SCRATCHNET_TARGET_AVX512 inline void transpose16(__m512 (&r)[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = unpacklo(r[i], r[i + 1]);
        t[i + 1] = unpackhi(r[i], r[i + 1]);
    }
    // u[4g + e], 128-bit lane L: element 4L + e of rows 4g .. 4g + 3.
    __m512 u[16];
    for (int g = 0; g < 16; g += 4) {
        const __m512d t0 = _mm512_castps_pd(t[g]), t1 = _mm512_castps_pd(t[g + 1]);
        const __m512d t2 = _mm512_castps_pd(t[g + 2]), t3 = _mm512_castps_pd(t[g + 3]);
        u[g] = _mm512_castpd_ps(unpacklo(t0, t2));
        u[g + 1] = _mm512_castpd_ps(unpackhi(t0, t2));
        u[g + 2] = _mm512_castpd_ps(unpacklo(t1, t3));
        u[g + 3] = _mm512_castpd_ps(unpackhi(t1, t3));
    }
    for (int e = 0; e < 4; ++e) {
        const __m512 s0 = shuffle_lanes<0x44>(u[e], u[4 + e]);
        const __m512 s1 = shuffle_lanes<0xEE>(u[e], u[4 + e]);
        const __m512 s2 = shuffle_lanes<0x44>(u[8 + e], u[12 + e]);
        const __m512 s3 = shuffle_lanes<0xEE>(u[8 + e], u[12 + e]);
        r[e] = shuffle_lanes<0x88>(s0, s2);
        r[4 + e] = shuffle_lanes<0xDD>(s0, s2);
        r[8 + e] = shuffle_lanes<0x88>(s1, s3);
        r[12 + e] = shuffle_lanes<0xDD>(s1, s3);
    }
}

/// Reads `runs` (at most 16) runs of `len` (at most 16) floats, run r starting at
/// src + r * ld, and writes them transposed: dst[q * step + r] = src[r * ld + q],
/// with zeros for r in [runs, 16). Every store is 16 floats wide.
SCRATCHNET_TARGET_AVX512 inline void transpose_runs(const float* src, Index ld, Index runs, Index len, float* dst,
                                                    Index step) {
    __m512 r[16];
    const __mmask16 m = len >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << len) - 1u);
    for (Index i = 0; i < 16; ++i)
        r[i] = i >= runs ? _mm512_setzero_ps()
               : len >= 16 ? _mm512_loadu_ps(src + i * ld)
                           : _mm512_maskz_loadu_ps(m, src + i * ld);
    transpose16(r);
    for (Index q = 0; q < len; ++q) _mm512_storeu_ps(dst + q * step, r[q]);
}

/// Rows a panel starting at row i0 of m occupies once padded: 32, or 16 for a
/// short last panel (m = 10 or the 784 = 24 * 32 + 16 tail waste no work).
inline Index panel_rows(Index m, Index i0) { return m - i0 > 16 ? kMr : 16; }

/// Scalars the packed op(A) takes: each panel is panel_rows x k.
inline Index packed_a_size(Index m, Index k) {
    Index size = 0;
    for (Index i0 = 0; i0 < m; i0 += kMr) size += panel_rows(m, i0) * k;
    return size;
}
/// Scalars the packed op(B) takes, plus a slack of 16 for pack_b's last wide store.
inline Index packed_b_size(Index n, Index k) { return (n + kNr - 1) / kNr * kNr * k + 16; }

/// Whether the kernel reads the A panel at row i0 straight from the stored matrix:
/// only a plain (not transposed) op(A) whose panel is full. Short panels are
/// packed with zero padding instead, because masked loads in the inner loop cost
/// the kernel two thirds of its speed on Zen 5.
inline bool a_in_place(bool transposed, Index m, Index i0) {
    return !transposed && m - i0 >= panel_rows(m, i0);
}

/// Copies the panels of op(A) (m x k) that are not read in place into `out`, each
/// at its offset in the full packed layout. Transposed: op(A)(i, p) = a[i * lda + p];
/// otherwise op(A)(i, p) = a[i + p * lda].
SCRATCHNET_TARGET_AVX512 inline void pack_a(bool transposed, Index m, Index k, const float* a, Index lda,
                                            float* out) {
    for (Index i0 = 0; i0 < m; i0 += kMr) {
        const Index width = panel_rows(m, i0);
        const Index rows = std::min(width, m - i0);
        if (a_in_place(transposed, m, i0)) {
            // the kernel reads this panel from a itself
        } else if (!transposed) {
            pack_plain_panel(a + i0, lda, rows, width, k, out);
        } else {
            // Rows of op(A) are contiguous runs of a: transpose 16 x 16 blocks.
            for (Index h = 0; h < width; h += 16)
                for (Index p = 0; p < k; p += 16)
                    transpose_runs(a + (i0 + h) * lda + p, lda, std::max<Index>(0, std::min<Index>(16, rows - h)),
                                   std::min<Index>(16, k - p), out + p * width + h, width);
        }
        out += width * k;
    }
}

/// Copies op(B) (k x n) into column panels of kNr. Transposed: op(B)(p, j) =
/// b[p * ldb + j]; otherwise op(B)(p, j) = b[p + j * ldb].
SCRATCHNET_TARGET_AVX512 inline void pack_b(bool transposed, Index k, Index n, const float* b, Index ldb,
                                            float* out) {
    for (Index j0 = 0; j0 < n; j0 += kNr) {
        const Index cols = std::min(kNr, n - j0);
        if (transposed) {
            for (Index p = 0; p < k; ++p) {
                const float* src = b + p * ldb + j0;
                float* dst = out + p * kNr;
                Index j = 0;
                for (; j < cols; ++j) dst[j] = src[j];
                for (; j < kNr; ++j) dst[j] = 0.0f;
            }
        } else {
            // Columns of op(B) are contiguous runs of b: transpose blocks of kNr x 16.
            // Each 16-wide store spills 4 zeros into the next row of the panel, which
            // the next store overwrites; the last spills past the panel (see slack).
            for (Index p = 0; p < k; p += 16)
                transpose_runs(b + j0 * ldb + p, ldb, cols, std::min<Index>(16, k - p), out + p * kNr, kNr);
        }
        out += kNr * k;
    }
}

/// The rows-of-a-vector mask for rows [16 v, 16 v + 16) of a tile with `rows` rows.
SCRATCHNET_TARGET_AVX512 inline __mmask16 row_mask(Index rows, int v) {
    const Index left = rows - 16 * v;
    return left >= 16 ? __mmask16(0xFFFF) : left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1u);
}

/// C tile (rows x cols, at most 16 V x kNr) = alpha * A tile * panel(B) (+ C when
/// accumulating), depth k.
/// The A tile's column p starts at ap + p * a_step: a packed panel (a_step = 16 V)
/// or, for a full tile, the stored matrix itself (a_step = lda). Likewise row p of
/// the B panel starts at bp + p * b_step.
template <int V>
[[gnu::noinline]] SCRATCHNET_TARGET_AVX512 inline void micro_kernel(Index k, const float* ap, Index a_step,
                                                                    const float* bp, Index b_step,
                                           float* c, Index ldc, Index rows, Index cols, float alpha, bool accumulate) {
    __m512 acc[std::size_t{V}][kNr];
    for (int v = 0; v < V; ++v)
        for (Index j = 0; j < kNr; ++j) acc[v][j] = _mm512_setzero_ps();
    for (Index p = 0; p < k; ++p) {
        __m512 a[std::size_t{V}];
        for (int v = 0; v < V; ++v) a[v] = _mm512_loadu_ps(ap + 16 * v);
        for (Index j = 0; j < kNr; ++j) {
            const __m512 b = _mm512_set1_ps(bp[j]);
            for (int v = 0; v < V; ++v) acc[v][j] = _mm512_fmadd_ps(a[v], b, acc[v][j]);
        }
        ap += a_step;
        bp += b_step;
    }
    const __m512 alphav = _mm512_set1_ps(alpha);
    __mmask16 mask[std::size_t{V}];
    for (int v = 0; v < V; ++v) mask[v] = row_mask(rows, v);
    for (Index j = 0; j < cols; ++j) {
        float* cj = c + j * ldc;
        for (int v = 0; v < V; ++v) {
            const __m512 out = accumulate
                                   ? _mm512_fmadd_ps(acc[v][j], alphav, _mm512_maskz_loadu_ps(mask[v], cj + 16 * v))
                                   : _mm512_mul_ps(acc[v][j], alphav);
            _mm512_mask_storeu_ps(cj + 16 * v, mask[v], out);
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

}  // namespace scratchnet::detail::avx512

#endif
