#pragma once
// Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, 2016) for Conv2D's
// 3 x 3, stride-1 layers. Each 2 x 2 block of outputs comes from a 4 x 4 input
// tile with 16 multiplications per channel pair instead of im2col's 36, so all
// three products of a training step cost 4/9 of im2col's.
//
// Over 400 lines: the forward pass, both gradients, the transforms and the L2
// blocking are one algorithm whose parts are each other's exact adjoints; split,
// the invariant that ties them (backward is the adjoint of forward) would span files.
//
// In Lavin's notation, for one tile d (4x4), one kernel g (3x3) and one 2x2 output y,
//   V = B^T d B,   U = G g G^T,   y = A^T (U .* V) A,
// and summed over input channels the 16 places xi of the 4x4 transforms become
// 16 independent products over channels:
//   forward          M_xi  = V_xi U_xi^T                   (tiles x OutC)
//   weight gradient  dU_xi^T += V_xi^T dM_xi,  dM = A dy A^T, dg = G^T dU G
//   input gradient   dV_xi  = dM_xi U_xi,                   dd = B dV B^T
// In float on AVX2 they read the transforms' blocks in place, where they lie in
// the L2 cache (kernels/unpacked_gemm.hpp); elsewhere they run on GemmSite.
// The backward pass is the exact adjoint of the forward one, so gradient_check
// and the plain-loop oracle in the tests see the gradient of what forward
// computes; in float the transforms' rounding stays near 1e-6 of the outputs.
//
// Tiles cover the output in 2 x 2 blocks; an odd output height or width gets a
// last half-used tile row or column (its inputs past the image are zeros, its
// outputs past the image are dropped).
//
// The work goes in units whose transformed tiles (V and M, 16 blocks each) stay
// within the core's L2 cache, so that the products read what the transforms have
// just written from there: a band of kSpanRows tile rows of one sample where a
// whole sample's tiles would not fit, or else kGroup whole samples (the rows of
// the products: tile p of sample g at g * kSpanTiles + p). A call's last, smaller
// group has its own GEMM sites, so that a scratch that always sees the same
// number of columns (fit keeps one per chunk size) never re-sizes its packing
// buffers; one that sees varying counts (a last, partial inference block) may.
// Which unit a tile falls in depends only on its sample's column in the call:
// the same chunk gives the same bits on any thread.

#include "scratchnet/core.hpp"
#include "scratchnet/kernels/gemm.hpp"
#include "scratchnet/kernels/interleave.hpp"
#include "scratchnet/kernels/packet_loop.hpp"
#include "scratchnet/kernels/unpacked_gemm.hpp"

#include <algorithm>
#include <type_traits>

// Tells the vectoriser that a loop's iterations do not depend on each other: its
// stores never meet its loads (the buffers are distinct, or the strides keep
// them apart), which the compiler cannot prove and would otherwise test at run
// time or, for short loops, give up on.
// A hint, not a demand: where clang does not vectorise (at -O1 with a sanitizer,
// say), it must not warn in a user's build, so -Wpass-failed is off in this file.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpass-failed"
#define SCRATCHNET_INDEPENDENT_ITERATIONS _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define SCRATCHNET_INDEPENDENT_ITERATIONS _Pragma("GCC ivdep")
#else
#define SCRATCHNET_INDEPENDENT_ITERATIONS
#endif

namespace scratchnet::detail {

template <class T, Index InC, Index OutC, Index H, Index W, Index Pad>
class Winograd3x3 {
public:
    static constexpr Index kOutH = H + 2 * Pad - 2, kOutW = W + 2 * Pad - 2;
    static constexpr Index kTileRows = (kOutH + 1) / 2, kTileCols = (kOutW + 1) / 2;
    static constexpr Index kTiles = kTileRows * kTileCols;  // per sample and channel
    static constexpr Index kIn = InC * H * W, kOut = OutC * kOutH * kOutW;

    // A unit's V and M take 16 (InC + OutC) scalars per tile; keep them to
    // kUnitBytes, well inside a 512 KB L2 beside the GEMM's own packed panels.
    static constexpr Index kUnitBytes = 320 * 1024;
    static constexpr Index kTileBytes = 16 * (InC + OutC) * static_cast<Index>(sizeof(T));
    /// Tile rows per unit and sample: all of them, or the most that divides them and
    /// fits (equal bands keep one GEMM shape; a prime count gets bands of one row).
    static constexpr Index kSpanRows = [] {
        if (kTiles * kTileBytes <= kUnitBytes) return kTileRows;
        Index rows = 1;
        for (Index r = 1; r <= kTileRows; ++r)
            if (kTileRows % r == 0 && r * kTileCols * kTileBytes <= kUnitBytes) rows = r;
        return rows;
    }();
    static constexpr Index kSpanTiles = kSpanRows * kTileCols, kSpans = kTileRows / kSpanRows;
    /// Samples per unit: 1 for bands, else as many whole samples as fit, at most 16
    /// (more rows than that make the products no faster, only the last group rarer).
    static constexpr Index kGroup =
        kSpans > 1 ? 1 : std::clamp(kUnitBytes / (kTiles * kTileBytes), Index{1}, Index{16});

    // A band's plane rows (input rows 2 ty0 - Pad onwards) as their even and their
    // odd columns, kPitch entries each: tile column tx reads entries tx and tx + 1
    // of both, contiguous over tx.
    static constexpr Index kPitch = kTileCols + 1, kPlaneRows = 2 * kSpanRows + 2, kPlane = kPlaneRows * kPitch;
    static constexpr Index kRows = std::max(6 * kPlane, 4 * kSpanTiles);
    // The 16 blocks of a buffer lie this many scalars further apart than their size:
    // at a multiple of 4 KB apart, the 16 streams a transform reads or writes at
    // once would all fall in the same cache sets.
    static constexpr Index kSkew = 3 * 64 / static_cast<Index>(sizeof(T));
    static constexpr Index data_block(Index tiles) { return tiles * InC + kSkew; }
    static constexpr Index product_block(Index tiles) { return tiles * OutC + kSkew; }
    static constexpr Index kKernelBlock = OutC * InC + kSkew;

    struct Sites {
        GemmSite<T, Eigen::ColMajor, Eigen::RowMajor> forward;  // V U^T
        GemmSite<T, Eigen::RowMajor, Eigen::ColMajor> weight;   // dM^T V
        GemmSite<T, Eigen::ColMajor, Eigen::ColMajor> input;    // dM U
    };
    struct Scratch {
        Vector<T> kernel;       // U: 16 blocks of OutC x InC
        Vector<T> kernel_grad;  // dU^T: 16 blocks of InC x OutC, summed over the call's units
        Vector<T> data;         // V, then dV: 16 blocks of (unit tiles) x InC
        Vector<T> products;     // M, or dM: 16 blocks of (unit tiles) x OutC
        Vector<T> rows;         // the transforms' rows: kRows
        Vector<T> transposed;   // V_xi^T of a unit, for the unpacked weight products
        Sites full, last;       // units of kGroup samples; a call's smaller last group
    };

    /// Y (kOut x n) = the convolution of X (kIn x n) with w (OutC x 9 InC,
    /// column-major, column (c 3 + i) 3 + j) plus b.
    template <class D>
    static void forward(const Eigen::MatrixBase<D>& X, Matrix<T>& Y, const T* w, const T* b, Scratch& s) {
        prepare(s);
        transform_kernels(w, s.kernel.data());
        const auto x = [&X](Index j) { return X.derived().data() + j * X.derived().outerStride(); };
        const Index n = X.cols();
        for (Index g0 = 0; g0 < n; g0 += kGroup) {
            const Index group = std::min(kGroup, n - g0), tiles = group * kSpanTiles;
            Sites& sites = group == kGroup ? s.full : s.last;
            for (Index span = 0; span < kSpans; ++span) {
                for (Index g = 0; g < group; ++g) transform_data(x(g0 + g), span, g * kSpanTiles, tiles, s);
                kernel_products(tiles, OutC, InC, s.data.data(), data_block(tiles), s.products.data(),
                                product_block(tiles), sites.forward, s);
                for (Index g = 0; g < group; ++g)
                    untransform_outputs(span, g * kSpanTiles, tiles, b, Y.col(g0 + g).data(), s);
            }
        }
    }

    /// grad_w (OutC x 9 InC, as w) and grad_b (OutC) = the gradients over the batch
    /// of columns; dX, where wanted, = the gradient with respect to X.
    template <class D>
    static void backward(const Eigen::MatrixBase<D>& X, const Matrix<T>& dY, Matrix<T>* dX, const T* w, T* grad_w,
                         T* grad_b, Scratch& s) {
        prepare(s);
        const auto x = [&X](Index j) { return X.derived().data() + j * X.derived().outerStride(); };
        const Index n = dY.cols();
        Eigen::Map<Vector<T>> db(grad_b, OutC);
        db.setZero();
        for (Index j = 0; j < n; ++j)
            db += Eigen::Map<const Matrix<T>>(dY.col(j).data(), kOutH * kOutW, OutC).colwise().sum().transpose();
        if (n == 0) {
            std::fill(grad_w, grad_w + OutC * InC * 9, T(0));
            return;
        }
        if (dX != nullptr) {
            transform_kernels(w, s.kernel.data());
            dX->setZero();  // bands add their share; the rows two bands share get both
        }
        for (Index g0 = 0; g0 < n; g0 += kGroup) {
            const Index group = std::min(kGroup, n - g0), tiles = group * kSpanTiles;
            Sites& sites = group == kGroup ? s.full : s.last;
            for (Index span = 0; span < kSpans; ++span) {
                for (Index g = 0; g < group; ++g) {
                    transform_output_gradient(dY.col(g0 + g).data(), span, g * kSpanTiles, tiles, s);
                    transform_data(x(g0 + g), span, g * kSpanTiles, tiles, s);
                }
                weight_products(tiles, g0 == 0 && span == 0, sites, s);
                if (dX == nullptr) continue;
                // dV overwrites V: the weight products were its last readers.
                kernel_products(tiles, InC, OutC, s.products.data(), product_block(tiles), s.data.data(),
                                data_block(tiles), sites.input, s);
                for (Index g = 0; g < group; ++g)
                    add_input_gradient(span, g * kSpanTiles, tiles, dX->col(g0 + g).data(), s);
            }
        }
        untransform_kernel_gradient(s.kernel_grad.data(), grad_w);
    }

private:
    // In float on AVX2 or AVX-512, the products read the transforms' blocks in place.
    static bool unpacked_products() {
#ifdef SCRATCHNET_X86_KERNELS
        return std::is_same_v<T, float> && active_isa() != Isa::portable;
#else
        return false;
#endif
    }

    /// C_xi = A_xi op(U_xi) for a unit of `tiles` tiles, each C_xi overwritten:
    /// forward M = V U^T (A: data, C: products; n = OutC, k = InC), input
    /// gradient dV = dM U (A: products, C: data; n = InC, k = OutC). U_xi is
    /// OutC x InC column-major either way; the site's order of B says which op.
    template <class Site>
    static void kernel_products(Index tiles, Index n, Index k, const T* a, Index a_block, T* c, Index c_block,
                                Site& site, Scratch& s) {
        for (Index xi = 0; xi < 16; ++xi) {
            const T* u = s.kernel.data() + xi * kKernelBlock;
#ifdef SCRATCHNET_X86_KERNELS
            if constexpr (std::is_same_v<T, float>) {
                if (unpacked_products()) {
                        // B = op(U_xi): U^T(c, o) = u[c OutC + o] steps OutC a depth, U(o, c) steps 1.
                    constexpr bool transposed = std::is_same_v<Site, decltype(Sites::forward)>;
                    unpacked::gemm_nn_active(tiles, n, k, a + xi * a_block, tiles, u, transposed ? OutC : 1,
                                      transposed ? 1 : OutC, c + xi * c_block, tiles, false);
                    continue;
                }
            }
#endif
            site.run(tiles, n, k, a + xi * a_block, tiles, u, OutC, c + xi * c_block, tiles, T(1), false);
        }
    }

    /// dU_xi^T = V_xi^T dM_xi, or dU_xi^T += that after the call's first unit.
    /// (Transposed, InC x OutC: the unpacked product's rows must be contiguous,
    /// and V^T's are once transposed; dM, the larger, is read in place.)
    static void weight_products(Index tiles, bool first, Sites& sites, Scratch& s) {
        for (Index xi = 0; xi < 16; ++xi) {
            const T* dm = s.products.data() + xi * product_block(tiles);
            const T* v = s.data.data() + xi * data_block(tiles);
            T* du = s.kernel_grad.data() + xi * kKernelBlock;
#ifdef SCRATCHNET_X86_KERNELS
            if constexpr (std::is_same_v<T, float>) {
                if (unpacked_products()) {  // B(t, o) = dM_xi(t, o)
                    unpacked::transpose(tiles, InC, v, tiles, s.transposed.data(), InC);
                    unpacked::gemm_nn_active(InC, OutC, tiles, s.transposed.data(), InC, dm, 1, tiles, du, InC, !first);
                    continue;
                }
            }
#endif
            sites.weight.run(InC, OutC, tiles, v, tiles, dm, tiles, du, InC, T(1), !first);
        }
    }

    static void prepare(Scratch& s) {
        // Sized for a full unit; resize() keeps a buffer of the same size.
        s.kernel.resize(16 * kKernelBlock);
        s.kernel_grad.resize(16 * kKernelBlock);
        s.data.resize(16 * data_block(kGroup * kSpanTiles));
        s.products.resize(16 * product_block(kGroup * kSpanTiles));
        s.rows.resize(kRows);
        s.transposed.resize(kGroup * kSpanTiles * InC);
    }

    /// U_xi(o, c) = (G g G^T)(a, b), xi = 4 a + b, for g = w's kernel of (o, c);
    /// G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
    static void transform_kernels(const T* w, T* u) {
        const T half(0.5);
        for (Index c = 0; c < InC; ++c)
            for (Index o = 0; o < OutC; ++o) {
                T g[3][3], e[4][3];
                for (Index i = 0; i < 3; ++i)
                    for (Index j = 0; j < 3; ++j) g[i][j] = w[((c * 3 + i) * 3 + j) * OutC + o];
                for (Index j = 0; j < 3; ++j) {
                    e[0][j] = g[0][j];
                    e[1][j] = half * (g[0][j] + g[1][j] + g[2][j]);
                    e[2][j] = half * (g[0][j] - g[1][j] + g[2][j]);
                    e[3][j] = g[2][j];
                }
                for (Index a = 0; a < 4; ++a) {
                    T* row = u + (4 * a) * kKernelBlock + c * OutC + o;
                    row[0] = e[a][0];
                    row[kKernelBlock] = half * (e[a][0] + e[a][1] + e[a][2]);
                    row[2 * kKernelBlock] = half * (e[a][0] - e[a][1] + e[a][2]);
                    row[3 * kKernelBlock] = e[a][2];
                }
            }
    }

    /// The adjoint of transform_kernels: dg = G^T dU G, from dU^T, written in w's layout.
    static void untransform_kernel_gradient(const T* du, T* dw) {
        const T half(0.5);
        for (Index c = 0; c < InC; ++c)
            for (Index o = 0; o < OutC; ++o) {
                T m[4][4], e[3][4];
                for (Index xi = 0; xi < 16; ++xi) m[xi / 4][xi % 4] = du[xi * kKernelBlock + o * InC + c];
                for (Index b = 0; b < 4; ++b) {
                    e[0][b] = m[0][b] + half * (m[1][b] + m[2][b]);
                    e[1][b] = half * (m[1][b] - m[2][b]);
                    e[2][b] = half * (m[1][b] + m[2][b]) + m[3][b];
                }
                for (Index i = 0; i < 3; ++i) {
                    T* out = dw + (c * 3 + i) * 3 * OutC + o;
                    out[0] = e[i][0] + half * (e[i][1] + e[i][2]);
                    out[OutC] = half * (e[i][1] - e[i][2]);
                    out[2 * OutC] = half * (e[i][1] + e[i][2]) + e[i][3];
                }
            }
    }

    /// out = A a + B b over N entries, A and B each +-1: a loop the compiler
    /// vectorises.
    template <int A, int B, Index N>
    static void mix(T* __restrict out, const T* __restrict a, const T* __restrict b) {
        for (Index t = 0; t < N; ++t) out[t] = T(A) * a[t] + T(B) * b[t];
    }

    /// V of one sample's tiles in band `span`, every channel: V_xi(at + p, c) for
    /// its p-th tile (ty, tx), from the 4 x 4 input tile at (2 ty - Pad, 2 tx - Pad);
    /// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. First h = d B along every
    /// plane row of the band (rows are shared by two tile rows), then B^T h down
    /// each tile row. `tiles`: the unit's, which sets the blocks' stride.
    static void transform_data(const T* x, Index span, Index at, Index tiles, Scratch& s) {
        T* even = s.rows.data();
        T* odd = even + kPlane;
        T* h = odd + kPlane;  // h_b at h + b kPlane
        std::fill(even, odd + kPlane, T(0));  // the padding; the image's places are rewritten below
        const Index top = 2 * span * kSpanRows - Pad;  // the input row of the band's first plane row
        const Index first = std::max(Index{0}, -top), last = std::min(kPlaneRows, H - top);
        const Index block = data_block(tiles);
        run_with_vector_bytes([&]<int Bytes>() {  // the loops below at the CPU's vector width
            for (Index c = 0; c < InC; ++c) {
                for (Index r = first; r < last; ++r)
                    split_row(x + (c * H + top + r) * W, even + r * kPitch, odd + r * kPitch);
                // h0 = E_i - E_i+1, h1 = O_i + E_i+1, h2 = E_i+1 - O_i, h3 = O_i - O_i+1
                // (entry kTileCols of a row is never read).
                vector_loop<T, Bytes>(kPlane - 1, [&]<class P>(Index i) {
                    P e0, e1, o0, o1;
                    simd_load(e0, even + i);
                    simd_load(e1, even + i + 1);
                    simd_load(o0, odd + i);
                    simd_load(o1, odd + i + 1);
                    simd_store(h + i, P(e0 - e1));
                    simd_store(h + kPlane + i, P(o0 + e1));
                    simd_store(h + 2 * kPlane + i, P(e1 - o0));
                    simd_store(h + 3 * kPlane + i, P(o0 - o1));
                });
                T* v = s.data.data() + c * tiles + at;
                for (Index ty = 0; ty < kSpanRows; ++ty)
                    for (Index b = 0; b < 4; ++b) {
                        const T* r0 = h + b * kPlane + 2 * ty * kPitch;
                        const T* r1 = r0 + kPitch;
                        const T* r2 = r1 + kPitch;
                        const T* r3 = r2 + kPitch;
                        T* out = v + b * block + ty * kTileCols;
                        mix<1, -1, kTileCols>(out, r0, r2);
                        mix<1, 1, kTileCols>(out + 4 * block, r1, r2);
                        mix<1, -1, kTileCols>(out + 8 * block, r2, r1);
                        mix<1, -1, kTileCols>(out + 12 * block, r1, r3);
                    }
            }
        });
    }

    /// An input row into the even and odd padded columns of its plane row.
    static void split_row(const T* in, T* even, T* odd) {
        // Input x lies at padded column x + Pad: entry (x + Pad) / 2 of the even
        // columns or of the odd ones.
        T* from_even = Pad % 2 == 0 ? even : odd;
        T* from_odd = Pad % 2 == 0 ? odd : even;
        split_even_odd(in, W, from_even + Pad / 2, from_odd + (Pad + 1) / 2);
    }

    /// The adjoint of split_row, added to the row: out += the row's entries of the two halves.
    static void add_joined_row(const T* even, const T* odd, T* out) {
        const T* to_even = Pad % 2 == 0 ? even : odd;
        const T* to_odd = Pad % 2 == 0 ? odd : even;
        join_even_odd<true>(to_even + Pad / 2, to_odd + (Pad + 1) / 2, W, out);
    }

    /// One sample's outputs in band `span` from M: y = A^T M A + b per tile,
    /// A^T = [1 1 1 0; 0 1 -1 -1].
    static void untransform_outputs(Index span, Index at, Index tiles, const T* bias, T* y, Scratch& s) {
        T* r = s.rows.data();  // y(i, j) of every tile at r + (2 i + j) kSpanTiles
        const Index block = product_block(tiles);
        run_with_vector_bytes([&]<int Bytes>() {  // the loops below at the CPU's vector width
            for (Index o = 0; o < OutC; ++o) {
                outputs_of_tiles<Bytes>(s.products.data() + o * tiles + at, block, bias[o], r);
                for (Index ty = 0; ty < kSpanRows; ++ty)
                    for (Index i = 0; i < 2; ++i) {
                        const Index row = 2 * (span * kSpanRows + ty) + i;
                        if (row >= kOutH) break;
                        const T* y0 = r + 2 * i * kSpanTiles + ty * kTileCols;
                        join_even_odd<false>(y0, y0 + kSpanTiles, kOutW, y + (o * kOutH + row) * kOutW);
                    }
            }
        });
    }

    /// y(i, j) + bias of each of a band's tiles, from its 16 M's at m + xi block.
    template <int Bytes>
    static void outputs_of_tiles(const T* m, Index block, T bias, T* y) {
        vector_loop<T, Bytes>(kSpanTiles, [&]<class P>(Index t) {
            P s0[4], s1[4];  // (A^T M)'s two rows
            for (Index b = 0; b < 4; ++b) {
                P m0, m1, m2, m3;
                simd_load(m0, m + b * block + t);
                simd_load(m1, m + (4 + b) * block + t);
                simd_load(m2, m + (8 + b) * block + t);
                simd_load(m3, m + (12 + b) * block + t);
                s0[b] = (m0 + m1) + m2;
                s1[b] = (m1 - m2) - m3;
            }
            P bv;
            simd_splat(bv, bias);
            simd_store(y + t, P(((s0[0] + s0[1]) + s0[2]) + bv));
            simd_store(y + kSpanTiles + t, P(((s0[1] - s0[2]) - s0[3]) + bv));
            simd_store(y + 2 * kSpanTiles + t, P(((s1[0] + s1[1]) + s1[2]) + bv));
            simd_store(y + 3 * kSpanTiles + t, P(((s1[1] - s1[2]) - s1[3]) + bv));
        });
    }

    /// dM of one sample's tiles in band `span` from its output gradient: dM = A dy
    /// A^T per 2 x 2 block (zeros past the output's edge), the adjoint of
    /// untransform_outputs.
    static void transform_output_gradient(const T* dy, Index span, Index at, Index tiles, Scratch& s) {
        T* r = s.rows.data();  // each tile's dy(i, j) at r + (2 i + j) kSpanTiles
        const Index block = product_block(tiles);
        for (Index o = 0; o < OutC; ++o) {
            for (Index ty = 0; ty < kSpanRows; ++ty)
                for (Index i = 0; i < 2; ++i) {
                    T* left = r + 2 * i * kSpanTiles + ty * kTileCols;
                    T* right = left + kSpanTiles;
                    const Index row = 2 * (span * kSpanRows + ty) + i;
                    if (row >= kOutH) {
                        std::fill(left, left + kTileCols, T(0));
                        std::fill(right, right + kTileCols, T(0));
                        continue;
                    }
                    split_even_odd(dy + (o * kOutH + row) * kOutW, kOutW, left, right);
                    if constexpr (kOutW % 2 != 0) right[kTileCols - 1] = T(0);  // past the output's edge
                }
            products_of_tiles(r, s.products.data() + o * tiles + at, block);
        }
    }

    /// The 16 dM's (at m + xi block) of a band's tiles from their dy, whose
    /// (0, 0), (0, 1), (1, 0), (1, 1) lie at d + k kSpanTiles, k = 0..3. (Stores a
    /// runtime `block` apart never meet, which the compiler must be told.)
    static void products_of_tiles(const T* __restrict d, T* __restrict m, Index block) {
        SCRATCHNET_INDEPENDENT_ITERATIONS
        for (Index t = 0; t < kSpanTiles; ++t) {
            // (dy A^T) has rows (a, a+b, a-b, -b) and (e, e+f, e-f, -f); A mixes them.
            const T a = d[t], b = d[kSpanTiles + t], e = d[2 * kSpanTiles + t], f = d[3 * kSpanTiles + t];
            const T ap = a + b, am = a - b, ep = e + f, em = e - f;
            m[t] = a;
            m[block + t] = ap;
            m[2 * block + t] = am;
            m[3 * block + t] = -b;
            m[4 * block + t] = a + e;
            m[5 * block + t] = ap + ep;
            m[6 * block + t] = am + em;
            m[7 * block + t] = -b - f;
            m[8 * block + t] = a - e;
            m[9 * block + t] = ap - ep;
            m[10 * block + t] = am - em;
            m[11 * block + t] = f - b;
            m[12 * block + t] = -e;
            m[13 * block + t] = -ep;
            m[14 * block + t] = -em;
            m[15 * block + t] = f;
        }
    }

    /// Adds one sample's input gradient from band `span`'s dV to dx: the adjoint of
    /// transform_data. dh = B dV is summed into the band's plane rows where its tile
    /// rows share them, then the rows' adjoint of h = d B; the padding is dropped.
    static void add_input_gradient(Index span, Index at, Index tiles, T* dx, Scratch& s) {
        T* dh = s.rows.data();  // dh_b at dh + b kPlane
        T* even = dh + 4 * kPlane;
        T* odd = even + kPlane;
        const Index top = 2 * span * kSpanRows - Pad;
        const Index first = std::max(Index{0}, -top), last = std::min(kPlaneRows, H - top);
        const Index block = data_block(tiles);
        run_with_vector_bytes([&]<int Bytes>() {  // the loops below at the CPU's vector width
            for (Index c = 0; c < InC; ++c) {
                std::fill(dh, dh + 4 * kPlane, T(0));
                const T* v = s.data.data() + c * tiles + at;
                for (Index ty = 0; ty < kSpanRows; ++ty)
                    for (Index b = 0; b < 4; ++b) {
                        const T* m0 = v + b * block + ty * kTileCols;
                        const T* m1 = m0 + 4 * block;
                        const T* m2 = m0 + 8 * block;
                        const T* m3 = m0 + 12 * block;
                        T* r0 = dh + b * kPlane + 2 * ty * kPitch;
                        T* r1 = r0 + kPitch;
                        T* r2 = r1 + kPitch;
                        T* r3 = r2 + kPitch;
                        // r0 += m0, r1 += m1 - m2 + m3, r2 += m1 + m2 - m0, r3 -= m3.
                        vector_loop<T, Bytes>(kTileCols, [&]<class P>(Index tx) {
                            P a0, a1, a2, a3, q0, q1, q2, q3;
                            simd_load(a0, m0 + tx);
                            simd_load(a1, m1 + tx);
                            simd_load(a2, m2 + tx);
                            simd_load(a3, m3 + tx);
                            simd_load(q0, r0 + tx);
                            simd_load(q1, r1 + tx);
                            simd_load(q2, r2 + tx);
                            simd_load(q3, r3 + tx);
                            simd_store(r0 + tx, P(q0 + a0));
                            simd_store(r1 + tx, P(q1 + ((a1 - a2) + a3)));
                            simd_store(r2 + tx, P(q2 + ((a1 + a2) - a0)));
                            simd_store(r3 + tx, P(q3 - a3));
                        });
                    }
                // h0 = E_i - E_i+1, h1 = O_i + E_i+1, h2 = E_i+1 - O_i, h3 = O_i - O_i+1.
                const T* h0 = dh;
                const T* h1 = dh + kPlane;
                const T* h2 = dh + 2 * kPlane;
                const T* h3 = dh + 3 * kPlane;
                even[0] = h0[0];
                odd[0] = h1[0] - h2[0] + h3[0];
                vector_loop<T, Bytes>(kPlane - 1, [&]<class P>(Index j) {  // entries i = j + 1
                    const Index i = j + 1;
                    P h0j, h1j, h2j, h3j, h0i, h1i, h2i, h3i;
                    simd_load(h0j, h0 + j);
                    simd_load(h1j, h1 + j);
                    simd_load(h2j, h2 + j);
                    simd_load(h3j, h3 + j);
                    simd_load(h0i, h0 + i);
                    simd_load(h1i, h1 + i);
                    simd_load(h2i, h2 + i);
                    simd_load(h3i, h3 + i);
                    const P left = (h1j + h2j) - h0j;
                    simd_store(even + i, P(h0i + left));
                    const P right = (h1i - h2i) + h3i;
                    simd_store(odd + i, P(right - h3j));
                });
                for (Index r = first; r < last; ++r)
                    add_joined_row(even + r * kPitch, odd + r * kPitch, dx + (c * H + top + r) * W);
            }
        });
    }
};

}  // namespace scratchnet::detail

#if defined(__clang__)
#pragma clang diagnostic pop
#endif
