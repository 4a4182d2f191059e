#pragma once
// Conv2D<InC, OutC, K, Stride = 1, Pad = 0>: 2-D convolution (cross-correlation, as
// in every deep-learning library) of an InC x H x W image with OutC kernels of
// InC x K x K, zero padding of Pad on each side, plus one bias per output channel:
//   Y(o, y, x) = b(o) + sum_{c, i, j} W(o, c, i, j) X(c, y S - P + i, x S - P + j)
// Output shape OutC x OH x OW, OH = (H + 2 Pad - K) / Stride + 1 (OW alike).
//
// Parameters in the flat buffer: W as an OutC x (InC K K) matrix, column-major,
// column (c K + i) K + j; then the OutC biases. Row o of W is output channel o's
// kernel, so max-norm constrains each kernel as a unit.
//
// Computed as products on the library's GEMM (im2col): a sample's input is
// unfolded into U, OH*OW x (InC K K), one column per kernel tap, and then
//   forward:  Y = U W^T          (OH*OW x OutC: the sample's output column, as it lies)
//   backward: dW += dY^T U,  db += dY^T 1,  dU = dY W, folded back into dX (col2im).
// U is rebuilt in backward rather than kept from forward: one sample's U lives in
// the layer's scratch, not a batch's (for 64 samples of a 64-channel 3x3 layer that
// is 0.7 MB instead of 42 MB), and unfolding costs far less than the products.
// Samples run one after another within a pass (Winograd: unit after unit, below),
// so dW is summed in a fixed order.
//
// With a stride S > 1, a tap's inputs along a row lie S apart. Each padded input
// row is first split into its S phases (columns S k + q for q in [0, S)), so that
// every tap's row of U is one contiguous run of a phase; fold adds the runs into
// phases and joins them back into rows.
//
// 3 x 3 stride-1 layers with at least 4 input channels run Winograd's F(2x2, 3x3)
// instead (kernels/winograd.hpp): the same three products over 16 transformed tile
// places, with 4/9 of the multiplications. With fewer input channels its products
// would be too shallow (depth InC instead of 9 InC) to pay for the transforms.

#include "scratchnet/core.hpp"
#include "scratchnet/layers/affine_parameters.hpp"
#include "scratchnet/kernels/gemm.hpp"
#include "scratchnet/kernels/interleave.hpp"
#include "scratchnet/kernels/winograd.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/shape.hpp"

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>

namespace scratchnet {

namespace detail {
template <Index InC, Index OutC, Index K, Index Stride, Index Pad, class T, Index H, Index W>
class Conv2DLayer;

template <bool UseWinograd, class Winograd, class Other>
struct ScratchOf {
    using type = Other;
};
template <class Winograd, class Other>
struct ScratchOf<true, Winograd, Other> {
    using type = typename Winograd::Scratch;
};

/// The output positions o in [0, n_out) whose input position o * stride - pad + tap
/// falls in [0, n_in): [lo, hi).
constexpr std::pair<Index, Index> valid_outputs(Index n_out, Index n_in, Index stride, Index pad, Index tap) {
    // o * stride >= pad - tap  and  o * stride <= n_in - 1 + pad - tap
    const Index low = pad - tap;
    Index lo = low <= 0 ? 0 : (low + stride - 1) / stride;
    const Index high = n_in - 1 + pad - tap;
    Index hi = high < 0 ? 0 : high / stride + 1;
    lo = std::min(lo, n_out);
    hi = std::clamp(hi, lo, n_out);
    return {lo, hi};
}
}  // namespace detail

template <Index InC, Index OutC, Index K, Index Stride = 1, Index Pad = 0>
struct Conv2D {
    static_assert(InC > 0 && OutC > 0, "scratchnet::Conv2D<InC, OutC, K, Stride, Pad>: channels must be positive");
    static_assert(K > 0, "scratchnet::Conv2D<InC, OutC, K, Stride, Pad>: the kernel size K must be positive");
    static_assert(Stride > 0, "scratchnet::Conv2D<InC, OutC, K, Stride, Pad>: the stride must be positive");
    static_assert(Pad >= 0 && Pad < K,
                  "scratchnet::Conv2D<InC, OutC, K, Stride, Pad>: the padding must lie in [0, K): a wider border "
                  "gives outputs that see only zeros");

    static constexpr Index inputs = 0;  // from the image shape
    static constexpr Index outputs = 0;
    static constexpr Index parameter_count = OutC * InC * K * K + OutC;
    static constexpr Index in_channels = InC, out_channels = OutC, kernel = K, stride = Stride, padding = Pad;

    static constexpr Shape output_shape(Shape in) {
        return Shape{OutC, (in.height + 2 * Pad - K) / Stride + 1, (in.width + 2 * Pad - K) / Stride + 1};
    }
    template <Index C, Index H, Index W>
    static constexpr bool accepts() {
        return detail::channels_check<Conv2D, detail::expects_channels<InC>, detail::input_has_channels<C>>::ok &&
               detail::window_check<Conv2D, detail::window<K>, detail::padded_input<H + 2 * Pad, W + 2 * Pad>>::ok &&
               detail::tiling_check<Conv2D, detail::window<K>, detail::stride<Stride>,
                                    detail::padded_input<H + 2 * Pad, W + 2 * Pad>>::ok;
    }
    template <class T, Index C, Index H, Index W>
    using bind_image = detail::Conv2DLayer<InC, OutC, K, Stride, Pad, T, H, W>;

    static std::string name() {
        return "Conv2D<" + std::to_string(InC) + "," + std::to_string(OutC) + "," + std::to_string(K) + "," +
               std::to_string(Stride) + "," + std::to_string(Pad) + ">";
    }
};

namespace detail {

/// Conv2D bound to scalar T and an input of InC x H x W: weights() (OutC x InC K K,
/// row o is output channel o's kernel) and bias() (one per output channel) are
/// views into the network's parameters.
template <Index InC, Index OutC, Index K, Index Stride, Index Pad, class T, Index H, Index W>
class Conv2DLayer : public Conv2D<InC, OutC, K, Stride, Pad>, public AffineParameters<T, OutC, InC * K * K> {
    using Parameters = AffineParameters<T, OutC, InC * K * K>;
    using Parameters::bias_;
    using Parameters::weights_;

public:
    static constexpr Index kOutH = (H + 2 * Pad - K) / Stride + 1;
    static constexpr Index kOutW = (W + 2 * Pad - K) / Stride + 1;
    static constexpr Index kPixels = kOutH * kOutW;  // output positions per channel
    static constexpr Index kTaps = InC * K * K;       // inputs each output sees
    static constexpr Index kIn = InC * H * W;
    static constexpr Index kOut = OutC * kPixels;

    using typename Parameters::BiasView;
    using typename Parameters::WeightsView;

    /// He or Glorot with the fans of a convolution: fan-in InC K K, fan-out OutC K K.
    /// Max-norm (constrain_max_norm) constrains each kernel as a unit.
    void initialize(Rng& rng, Init init) { Parameters::initialize(rng, init, kTaps, OutC * K * K); }

    /// PyTorch's nn.Conv2d: weight [OutC, InC, K, K], bias [OutC] (tensors.hpp).
    static std::vector<TensorLayout> tensors() { return affine_tensors({OutC, InC, K, K}); }

    /// Whether this layer runs Winograd's F(2x2, 3x3) rather than im2col.
    static constexpr bool winograd = K == 3 && Stride == 1 && InC >= 4;
    using Winograd = Winograd3x3<T, InC, OutC, H, W, Pad>;

    // A strided layer's padded input rows as their Stride phases, kPhaseWidth each.
    static constexpr Index kPaddedH = H + 2 * Pad, kPaddedW = W + 2 * Pad;
    static constexpr Index kPhaseWidth = (kPaddedW + Stride - 1) / Stride;
    static constexpr Index kPhases = InC * kPaddedH * Stride * kPhaseWidth;

    struct Im2colScratch {
        Matrix<T> unfolded;  // U of one sample: kPixels x kTaps
        Matrix<T> unfolded_gradient;  // dU of one sample
        Vector<T> phases;           // strided layers: the input's phases (padding kept at zero)
        Vector<T> phase_gradient;   // strided layers: dU folded into phases
        GemmSite<T, Eigen::ColMajor, Eigen::RowMajor> uw;   // U W^T
        GemmSite<T, Eigen::RowMajor, Eigen::ColMajor> dyu;  // dY^T U
        GemmSite<T, Eigen::ColMajor, Eigen::ColMajor> dyw;  // dY W
    };
    // Named through a lazy choice: an im2col layer never instantiates Winograd3x3
    // (whose tile counts mean nothing for other kernels and strides).
    using Scratch = typename ScratchOf<winograd, Winograd, Im2colScratch>::type;

    template <class D>
    void forward(const Eigen::MatrixBase<D>& X, Matrix<T>& Y, Scratch& s, const Pass& = {}) const {
        if constexpr (winograd) {
            Winograd::forward(X, Y, weights_.data(), bias_.data(), s);
        } else {
            forward_im2col(X, Y, s);
        }
    }

    template <class D>
    void backward(const Eigen::MatrixBase<D>& X, const Matrix<T>& dY, Matrix<T>* dX, T* grad, Scratch& s,
                  const Pass& = {}) const {
        if constexpr (winograd) {
            Winograd::backward(X, dY, dX, weights_.data(), grad, grad + OutC * kTaps, s);
        } else {
            backward_im2col(X, dY, dX, grad, s);
        }
    }

private:
    template <class D>
    void forward_im2col(const Eigen::MatrixBase<D>& X, Matrix<T>& Y, Im2colScratch& s) const {
        s.unfolded.resize(kPixels, kTaps);
        for (Index j = 0; j < X.cols(); ++j) {
            unfold(X.derived().data() + j * X.derived().outerStride(), s);
            T* y = Y.col(j).data();  // kPixels x OutC, column-major: channel o's plane is column o
            for (Index o = 0; o < OutC; ++o) Eigen::Map<Vector<T>>(y + o * kPixels, kPixels).setConstant(bias_[o]);
            s.uw.run(kPixels, OutC, kTaps, s.unfolded.data(), kPixels, weights_.data(), OutC, y, kPixels);
        }
    }

    template <class D>
    void backward_im2col(const Eigen::MatrixBase<D>& X, const Matrix<T>& dY, Matrix<T>* dX, T* grad,
                         Im2colScratch& s) const {
        WeightsView dW(grad, OutC, kTaps);
        BiasView db(grad + OutC * kTaps, OutC);
        s.unfolded.resize(kPixels, kTaps);
        if (dX != nullptr) s.unfolded_gradient.resize(kPixels, kTaps);
        db.setZero();
        for (Index j = 0; j < dY.cols(); ++j) {
            unfold(X.derived().data() + j * X.derived().outerStride(), s);
            const T* dy = dY.col(j).data();
            s.dyu.run(OutC, kTaps, kPixels, dy, kPixels, s.unfolded.data(), kPixels, dW.data(), OutC, T(1), j > 0);
            db += Eigen::Map<const Matrix<T>>(dy, kPixels, OutC).colwise().sum().transpose();
            if (dX != nullptr) {
                s.dyw.run(kPixels, kTaps, OutC, dy, kPixels, weights_.data(), OutC, s.unfolded_gradient.data(),
                          kPixels, T(1), false);
                fold(s, dX->col(j).data());
            }
        }
    }

    /// U (s.unfolded) of one sample x, by the stride's way.
    static void unfold(const T* x, Im2colScratch& s) {
        if constexpr (Stride == 1) {
            unfold_rows(x, s.unfolded.data());
        } else {
            if (s.phases.size() != kPhases) s.phases.setZero(kPhases);  // the padding's places stay zero
            split_phases(x, s.phases.data());
            unfold_phases(s.phases.data(), s.unfolded.data());
        }
    }

    /// dx of one sample (every entry written) from dU (s.unfolded_gradient).
    static void fold(Im2colScratch& s, T* dx) {
        if constexpr (Stride == 1) {
            fold_rows(s.unfolded_gradient.data(), dx);
        } else {
            s.phase_gradient.setZero(kPhases);
            fold_phases(s.unfolded_gradient.data(), s.phase_gradient.data());
            join_phases(s.phase_gradient.data(), dx);
        }
    }

    /// Phase q of padded row r of channel c: kPhaseWidth entries at
    /// ((c kPaddedH + r) Stride + q) kPhaseWidth; entry k is padded column Stride k + q.
    static constexpr Index phase_at(Index c, Index r, Index q) {
        return ((c * kPaddedH + r) * Stride + q) * kPhaseWidth;
    }

    /// The image's rows into their phases (the padding's places are left as they are).
    static void split_phases(const T* x, T* phases) {
        for (Index c = 0; c < InC; ++c)
            for (Index r = 0; r < H; ++r) {
                const T* in = x + (c * H + r) * W;
                T* row = phases + phase_at(c, r + Pad, 0);
                if constexpr (Stride == 2) {
                    // Input column x is padded column x + Pad: phase (x + Pad) % 2.
                    T* even = row;
                    T* odd = row + kPhaseWidth;
                    split_even_odd(in, W, (Pad % 2 == 0 ? even : odd) + Pad / 2,
                                   (Pad % 2 == 0 ? odd : even) + (Pad + 1) / 2);
                } else {
                    for (Index xi = 0; xi < W; ++xi) {
                        const Index p = xi + Pad;
                        row[(p % Stride) * kPhaseWidth + p / Stride] = in[xi];
                    }
                }
            }
    }

    /// The adjoint of split_phases: the image's rows from their phases (written).
    static void join_phases(const T* phases, T* dx) {
        for (Index c = 0; c < InC; ++c)
            for (Index r = 0; r < H; ++r) {
                T* out = dx + (c * H + r) * W;
                const T* row = phases + phase_at(c, r + Pad, 0);
                if constexpr (Stride == 2) {
                    const T* even = row;
                    const T* odd = row + kPhaseWidth;
                    join_even_odd<false>((Pad % 2 == 0 ? even : odd) + Pad / 2,
                                         (Pad % 2 == 0 ? odd : even) + (Pad + 1) / 2, W, out);
                } else {
                    for (Index xi = 0; xi < W; ++xi) {
                        const Index p = xi + Pad;
                        out[xi] = row[(p % Stride) * kPhaseWidth + p / Stride];
                    }
                }
            }
    }

    /// U from the phases: tap (i, j) at output (y, x) reads padded row y Stride + i,
    /// column x Stride + j, which is entry x + j / Stride of phase j % Stride.
    static void unfold_phases(const T* phases, T* u) {
        for (Index c = 0; c < InC; ++c)
            for (Index i = 0; i < K; ++i)
                for (Index j = 0; j < K; ++j) {
                    T* col = u + ((c * K + i) * K + j) * kPixels;
                    for (Index y = 0; y < kOutH; ++y) {
                        const T* __restrict from = phases + phase_at(c, y * Stride + i, j % Stride) + j / Stride;
                        T* __restrict to = col + y * kOutW;
                        for (Index xo = 0; xo < kOutW; ++xo) to[xo] = from[xo];  // inlined, unlike a call to memmove
                    }
                }
    }

    /// The adjoint of unfold_phases: dU's runs added into the phases.
    static void fold_phases(const T* du, T* phases) {
        for (Index c = 0; c < InC; ++c)
            for (Index i = 0; i < K; ++i)
                for (Index j = 0; j < K; ++j) {
                    const T* col = du + ((c * K + i) * K + j) * kPixels;
                    for (Index y = 0; y < kOutH; ++y) {
                        T* __restrict to = phases + phase_at(c, y * Stride + i, j % Stride) + j / Stride;
                        const T* __restrict from = col + y * kOutW;
                        for (Index xo = 0; xo < kOutW; ++xo) to[xo] += from[xo];
                    }
                }
    }

    /// U(p, t) = the input under tap t = (c K + i) K + j at output position p = y OW + x
    /// (0 in the padding), for stride 1. Column t of U is contiguous, so each run of
    /// valid x is one copy.
    static void unfold_rows(const T* x, T* u) {
        for (Index c = 0; c < InC; ++c)
            for (Index i = 0; i < K; ++i) {
                const auto [y0, y1] = valid_outputs(kOutH, H, Stride, Pad, i);
                for (Index j = 0; j < K; ++j) {
                    const auto [x0, x1] = valid_outputs(kOutW, W, Stride, Pad, j);
                    T* col = u + ((c * K + i) * K + j) * kPixels;
                    const T* plane = x + c * H * W;
                    for (Index y = 0; y < kOutH; ++y) {
                        T* row = col + y * kOutW;
                        if (y < y0 || y >= y1) {
                            std::fill(row, row + kOutW, T(0));
                            continue;
                        }
                        const Index base = (y * Stride - Pad + i) * W - Pad + j;  // + xo Stride >= 0 for xo >= x0
                        std::fill(row, row + x0, T(0));
                        for (Index xo = x0; xo < x1; ++xo) row[xo] = plane[base + xo * Stride];
                        std::fill(row + x1, row + kOutW, T(0));
                    }
                }
            }
    }

    /// The adjoint of unfold_rows: dx = sum over taps of each dU entry at its input place.
    static void fold_rows(const T* du, T* dx) {
        std::fill(dx, dx + kIn, T(0));
        for (Index c = 0; c < InC; ++c)
            for (Index i = 0; i < K; ++i) {
                const auto [y0, y1] = valid_outputs(kOutH, H, Stride, Pad, i);
                for (Index j = 0; j < K; ++j) {
                    const auto [x0, x1] = valid_outputs(kOutW, W, Stride, Pad, j);
                    const T* col = du + ((c * K + i) * K + j) * kPixels;
                    T* plane = dx + c * H * W;
                    for (Index y = y0; y < y1; ++y) {
                        const T* row = col + y * kOutW;
                        const Index base = (y * Stride - Pad + i) * W - Pad + j;
                        for (Index xo = x0; xo < x1; ++xo) plane[base + xo * Stride] += row[xo];
                    }
                }
            }
    }

};

}  // namespace detail
}  // namespace scratchnet
