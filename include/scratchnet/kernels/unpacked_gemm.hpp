#pragma once
// Single-precision products for AVX2 + FMA and for AVX-512 (wide::gemm_nn, the
// same chains in 16-row vectors) that read both operands where they lie,
// for operands small enough to sit in L1 already: Winograd's per-place products
// (kernels/winograd.hpp), some 48 x 64 x 32 each, thousands per batch.
//
// Why not GemmSite? A general GEMM copies both operands into packed panels and
// zeroes C before it accumulates; at these sizes the copies and the zeroing cost
// as much as a quarter of the products themselves. Here the transforms lay the
// operands out so that the micro-kernels can load them in place:
//   gemm_nn: C (+)= A B, A column-major (rows contiguous: vector loads), B read one
//            scalar at a time (broadcast), at any strides;
// and `transpose` turns an operand whose rows are strided into one whose rows
// are contiguous, where a product needs it. gemm_nn computes every element of C
// as one FMA chain over the depth in order, whichever tile it falls in and
// however many rows or columns a call has: the same operands give the same bits
// in any call.
//
// Compiled in every x86-64 build, with target attributes; callers use
// gemm_nn_active where active_isa() is avx2 or avx512 (isa.hpp) and keep
// GemmSite elsewhere. The two kernels' loops over tiles mirror each other rather
// than share a template: a shared loop without a target attribute would pass
// vector masks by value, which g++ reports with psABI notes in a plain build.

#include "scratchnet/core.hpp"
#include "scratchnet/isa.hpp"
#include "scratchnet/kernels/targets.hpp"

#ifdef SCRATCHNET_X86_KERNELS

#include <algorithm>

namespace scratchnet::detail::unpacked {

/// Lanes [0, count) set, the others clear (count in [0, 8]).
SCRATCHNET_TARGET_AVX2 inline __m256i first_lanes(Index count) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lanes);
}

/// C tile (rows x NR, rows in (8 (MV - 1), 8 MV]) of gemm_nn. With Partial, the
/// tile's last vector of rows is short: it is loaded and stored through `mask`,
/// so nothing past row `rows` of A is read or of C written.
template <int MV, int NR, bool Partial>
SCRATCHNET_TARGET_AVX2 inline void nn_tile(Index k, const float* a, Index lda, const float* b, Index bp, Index bj, float* c, Index ldc,
                    __m256i mask, bool accumulate) {
    // The loops over v and j are unrolled first (the pragmas), so that the
    // accumulators become registers rather than an array in memory.
    __m256 acc[std::size_t{MV}][std::size_t{NR}];
#pragma GCC unroll 16
    for (int v = 0; v < MV; ++v)
#pragma GCC unroll 16
        for (int j = 0; j < NR; ++j) acc[v][j] = _mm256_setzero_ps();
    for (Index p = 0; p < k; ++p) {
        __m256 av[std::size_t{MV}];
#pragma GCC unroll 16
        for (int v = 0; v < MV; ++v)
            av[v] = Partial && v == MV - 1 ? _mm256_maskload_ps(a + 8 * v, mask) : _mm256_loadu_ps(a + 8 * v);
#pragma GCC unroll 16
        for (int j = 0; j < NR; ++j) {
            const __m256 bv = _mm256_broadcast_ss(b + j * bj);
#pragma GCC unroll 16
            for (int v = 0; v < MV; ++v) acc[v][j] = _mm256_fmadd_ps(av[v], bv, acc[v][j]);
        }
        a += lda;
        b += bp;
    }
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j)
#pragma GCC unroll 16
        for (int v = 0; v < MV; ++v) {
            float* out = c + j * ldc + 8 * v;
            if (Partial && v == MV - 1) {
                const __m256 old = accumulate ? _mm256_maskload_ps(out, mask) : _mm256_setzero_ps();
                _mm256_maskstore_ps(out, mask, _mm256_add_ps(old, acc[v][j]));
            } else {
                _mm256_storeu_ps(out, accumulate ? _mm256_add_ps(_mm256_loadu_ps(out), acc[v][j]) : acc[v][j]);
            }
        }
}

/// The n columns of one block of rows, NR at a time, the last few with fewer.
template <int MV, int NR, bool Partial>
SCRATCHNET_TARGET_AVX2 inline void nn_columns(Index n, Index k, const float* a, Index lda, const float* b, Index bp, Index bj, float* c,
                       Index ldc, __m256i mask, bool accumulate) {
    Index j = 0;
    for (; j + NR <= n; j += NR)
        nn_tile<MV, NR, Partial>(k, a, lda, b + j * bj, bp, bj, c + j * ldc, ldc, mask, accumulate);
    if constexpr (NR > 1)
        if (j < n)
            nn_columns<MV, NR - 1, Partial>(n - j, k, a, lda, b + j * bj, bp, bj, c + j * ldc, ldc, mask,
                                            accumulate);
}

/// A block of MV vectors of rows: tiles of 8 MV x 12 / MV, twelve independent FMA
/// chains, enough to keep both FMA pipes busy through their latency.
template <int MV>
SCRATCHNET_TARGET_AVX2 inline void nn_rows(Index rows, Index n, Index k, const float* a, Index lda, const float* b, Index bp, Index bj,
                    float* c, Index ldc, bool accumulate) {
    if (rows % 8 == 0)
        nn_columns<MV, 12 / MV, false>(n, k, a, lda, b, bp, bj, c, ldc, _mm256_set1_epi32(-1), accumulate);
    else
        nn_columns<MV, 12 / MV, true>(n, k, a, lda, b, bp, bj, c, ldc, first_lanes(rows % 8), accumulate);
}

/// C (m x n, column-major, ldc) = A B, or C += A B when accumulating. A: m x k,
/// column-major, lda. B: k x n, B(p, j) = b[p bp + j bj]. Tiles of 16 x 6: two
/// vectors of A and a broadcast per column leave the twelve accumulators three
/// of the sixteen vector registers. (Tiles of 24 x 4 leave none, and the compiler
/// then reads A from memory in every FMA, which halves the rate.)
SCRATCHNET_TARGET_AVX2 inline void gemm_nn(Index m, Index n, Index k, const float* a, Index lda, const float* b, Index bp, Index bj,
                    float* c, Index ldc, bool accumulate) {
    Index i = 0;
    for (; m - i > 8; i += 16)
        nn_rows<2>(std::min<Index>(16, m - i), n, k, a + i, lda, b, bp, bj, c + i, ldc, accumulate);
    if (m > i) nn_rows<1>(m - i, n, k, a + i, lda, b, bp, bj, c + i, ldc, accumulate);
}

/// gemm_nn for AVX-512: the same products in 16-row vectors, the same bits.
/// Every element of C is the same FMA chain over the depth in order, started from
/// zero and then stored or added to C once, so the two paths agree exactly; on
/// cores with two 512-bit FMA pipes this one does twice the work per cycle.
namespace wide {

/// C tile (rows x NR, rows in (16 (MV - 1), 16 MV]); with Partial, the last
/// vector of rows goes through `mask`: nothing past row `rows` is read or written.
template <int MV, int NR, bool Partial>
SCRATCHNET_TARGET_AVX512 inline void nn_tile(Index k, const float* a, Index lda, const float* b, Index bp, Index bj,
                                             float* c, Index ldc, __mmask16 mask, bool accumulate) {
    __m512 acc[std::size_t{MV}][std::size_t{NR}];
#pragma GCC unroll 16
    for (int v = 0; v < MV; ++v)
#pragma GCC unroll 16
        for (int j = 0; j < NR; ++j) acc[v][j] = _mm512_setzero_ps();
    for (Index p = 0; p < k; ++p) {
        __m512 av[std::size_t{MV}];
#pragma GCC unroll 16
        for (int v = 0; v < MV; ++v)
            av[v] = Partial && v == MV - 1 ? _mm512_maskz_loadu_ps(mask, a + 16 * v) : _mm512_loadu_ps(a + 16 * v);
#pragma GCC unroll 16
        for (int j = 0; j < NR; ++j) {
            const __m512 bv = _mm512_set1_ps(b[j * bj]);
#pragma GCC unroll 16
            for (int v = 0; v < MV; ++v) acc[v][j] = _mm512_fmadd_ps(av[v], bv, acc[v][j]);
        }
        a += lda;
        b += bp;
    }
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j)
#pragma GCC unroll 16
        for (int v = 0; v < MV; ++v) {
            float* out = c + j * ldc + 16 * v;
            if (Partial && v == MV - 1) {
                const __m512 old = accumulate ? _mm512_maskz_loadu_ps(mask, out) : _mm512_setzero_ps();
                _mm512_mask_storeu_ps(out, mask, accumulate ? _mm512_add_ps(old, acc[v][j]) : acc[v][j]);
            } else {
                _mm512_storeu_ps(out, accumulate ? _mm512_add_ps(_mm512_loadu_ps(out), acc[v][j]) : acc[v][j]);
            }
        }
}

template <int MV, int NR, bool Partial>
SCRATCHNET_TARGET_AVX512 inline void nn_columns(Index n, Index k, const float* a, Index lda, const float* b, Index bp,
                                                Index bj, float* c, Index ldc, __mmask16 mask, bool accumulate) {
    Index j = 0;
    for (; j + NR <= n; j += NR)
        nn_tile<MV, NR, Partial>(k, a, lda, b + j * bj, bp, bj, c + j * ldc, ldc, mask, accumulate);
    if constexpr (NR > 1)
        if (j < n)
            nn_columns<MV, NR - 1, Partial>(n - j, k, a, lda, b + j * bj, bp, bj, c + j * ldc, ldc, mask,
                                            accumulate);
}

/// Tiles of 32 x 12 (24 of the 32 zmm registers accumulate), or 16 x 12 for a
/// last block of at most 16 rows.
template <int MV>
SCRATCHNET_TARGET_AVX512 inline void nn_rows(Index rows, Index n, Index k, const float* a, Index lda, const float* b,
                                             Index bp, Index bj, float* c, Index ldc, bool accumulate) {
    if (rows % 16 == 0)
        nn_columns<MV, 12, false>(n, k, a, lda, b, bp, bj, c, ldc, __mmask16(0xFFFF), accumulate);
    else
        nn_columns<MV, 12, true>(n, k, a, lda, b, bp, bj, c, ldc,
                                 static_cast<__mmask16>((1u << (rows % 16)) - 1u), accumulate);
}

/// As unpacked::gemm_nn, which it equals bit for bit.
SCRATCHNET_TARGET_AVX512 inline void gemm_nn(Index m, Index n, Index k, const float* a, Index lda, const float* b,
                                             Index bp, Index bj, float* c, Index ldc, bool accumulate) {
    Index i = 0;
    for (; m - i > 16; i += 32)
        nn_rows<2>(std::min<Index>(32, m - i), n, k, a + i, lda, b, bp, bj, c + i, ldc, accumulate);
    if (m > i) nn_rows<1>(m - i, n, k, a + i, lda, b, bp, bj, c + i, ldc, accumulate);
}

}  // namespace wide

/// gemm_nn at the active path's width: 16 rows a vector on AVX-512, 8 on AVX2
/// (the same bits either way).
inline void gemm_nn_active(Index m, Index n, Index k, const float* a, Index lda, const float* b, Index bp, Index bj,
                           float* c, Index ldc, bool accumulate) {
    if (active_isa() == Isa::avx512)
        wide::gemm_nn(m, n, k, a, lda, b, bp, bj, c, ldc, accumulate);
    else
        gemm_nn(m, n, k, a, lda, b, bp, bj, c, ldc, accumulate);
}

/// dst (cols x rows, column-major, ldd) = the transpose of src (rows x cols,
/// column-major, lds): 8 x 8 blocks in registers, the edges one scalar at a time.
SCRATCHNET_TARGET_AVX2 inline void transpose(Index rows, Index cols, const float* src, Index lds, float* dst, Index ldd) {
    const Index rows8 = rows / 8 * 8, cols8 = cols / 8 * 8;
    for (Index j = 0; j < cols8; j += 8)
        for (Index i = 0; i < rows8; i += 8) {
            __m256 r[8], t[8];
            for (int q = 0; q < 8; ++q) r[q] = _mm256_loadu_ps(src + (j + q) * lds + i);
            for (int q = 0; q < 8; q += 2) {
                t[q] = _mm256_unpacklo_ps(r[q], r[q + 1]);
                t[q + 1] = _mm256_unpackhi_ps(r[q], r[q + 1]);
            }
            for (int q = 0; q < 8; q += 4) {
                r[q] = _mm256_shuffle_ps(t[q], t[q + 2], 0x44);
                r[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], 0xEE);
                r[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0x44);
                r[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0xEE);
            }
            // Now r[q] (q < 4) holds source row i + q, columns j .. j + 3, in its
            // low half and row i + q + 4 in its high half; r[q + 4] the same for
            // columns j + 4 .. j + 7. A destination column is two such halves.
            for (int q = 0; q < 4; ++q) {
                _mm256_storeu_ps(dst + (i + q) * ldd + j, _mm256_permute2f128_ps(r[q], r[q + 4], 0x20));
                _mm256_storeu_ps(dst + (i + q + 4) * ldd + j, _mm256_permute2f128_ps(r[q], r[q + 4], 0x31));
            }
        }
    for (Index j = 0; j < cols; ++j)
        for (Index i = j < cols8 ? rows8 : 0; i < rows; ++i) dst[i * ldd + j] = src[j * lds + i];
}

}  // namespace scratchnet::detail::unpacked

#endif
