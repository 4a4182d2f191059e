#pragma once
// The loop both of scratchnet's GEMM kernels run (kernels/gemm_avx2.hpp,
// kernels/gemm_avx512.hpp): op(B) packed one panel of Nr columns at a time into
// a buffer that stays in L1 while every row panel of op(A) passes over it; a
// full panel of a transposed op(B) (rows of X^T are contiguous in X) and a full
// panel of a plain op(A) are read in place. Only the panel sizes and the
// instruction set's functions differ, so they are the template's arguments.

#include "scratchnet/core.hpp"

#include <algorithm>

namespace scratchnet::detail {

/// A panel of `rows` rows of a plain op(A) (column-major, lda), packed k-major
/// into `width` rows each depth, the rows past `rows` zero.
inline void pack_plain_panel(const float* a, Index lda, Index rows, Index width, Index k, float* out) {
    for (Index p = 0; p < k; ++p) {
        const float* src = a + p * lda;
        float* dst = out + p * width;
        Index i = 0;
        for (; i < rows; ++i) dst[i] = src[i];
        for (; i < width; ++i) dst[i] = 0.0f;
    }
}

/// C (m x n, column-major, ldc) = alpha * op(A) * op(B), plus the old C when
/// accumulating (otherwise C's old values are never read). Panels of A have Mr
/// rows, or Mr / 2 for a short last one; op(A) must be packed by the kernel's
/// pack_a into apack (which leaves out the panels read in place). pack_b(transposed,
/// k, cols, b, ldb, out) packs one panel of B; full(...) and half(...) are the
/// micro-kernels for tiles of Mr and Mr / 2 rows.
template <Index Mr, Index Nr, auto pack_b, auto full, auto half>
void packed_gemm(bool a_transposed, bool b_transposed, Index m, Index n, Index k, const float* a, Index lda,
                 const float* apack, const float* b, Index ldb, float* bpanel, float* c, Index ldc, float alpha,
                 bool accumulate) {
    for (Index j0 = 0; j0 < n; j0 += Nr) {
        const Index cols = std::min(Nr, n - j0);
        const bool b_direct = b_transposed && cols == Nr;
        if (!b_direct) pack_b(b_transposed, k, cols, b_transposed ? b + j0 : b + j0 * ldb, ldb, bpanel);
        const float* bp = b_direct ? b + j0 : bpanel;
        const Index b_step = b_direct ? ldb : Nr;
        const float* ap = apack;
        for (Index i0 = 0; i0 < m; i0 += Mr) {
            const Index width = m - i0 > Mr / 2 ? Mr : Mr / 2;
            const Index rows = std::min(width, m - i0);
            const bool direct = !a_transposed && m - i0 >= width;  // the kernels' a_in_place
            const float* at = direct ? a + i0 : ap;
            const Index step = direct ? lda : width;
            float* ct = c + i0 + j0 * ldc;
            if (width == Mr)
                full(k, at, step, bp, b_step, ct, ldc, rows, cols, alpha, accumulate);
            else
                half(k, at, step, bp, b_step, ct, ldc, rows, cols, alpha, accumulate);
            ap += width * k;
        }
    }
}

}  // namespace scratchnet::detail
