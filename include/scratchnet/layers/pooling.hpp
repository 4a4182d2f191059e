#pragma once
// MaxPool2D<Size, Stride = Size> and AvgPool2D<Size, Stride = Size>: each channel's
// Size x Size windows, moved by Stride, reduced to their maximum or their mean.
// Output C x OH x OW with OH = (H - Size) / Stride + 1; the windows must tile the
// input exactly (no row or column silently left out), which the compiler checks.
//
// MaxPool2D passes each output's gradient to the input that held the maximum (the
// first such input where several tie; a NaN counts as the maximum, so that it
// reaches the output rather than hiding there). Where it came from is a branch, as ReLU's
// sign is: the layer reports it through branch_signature (layer.hpp), so that
// gradient_check does not take a difference across two maxima for a derivative.

#include "scratchnet/core.hpp"
#include "scratchnet/kernels/dispatch.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/shape.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace scratchnet {

namespace detail {
template <Index Size, Index Stride, class T, Index C, Index H, Index W>
class MaxPoolLayer;
template <Index Size, Index Stride, class T, Index C, Index H, Index W>
class AvgPoolLayer;

/// What the two pools' specs share: sizes, shape map and checks.
template <class Spec, Index Size, Index Stride>
struct PoolSpec {
    static_assert(Size > 0 && Stride > 0, "scratchnet pooling layer: the window and the stride must be positive");
    static constexpr Index inputs = 0;
    static constexpr Index outputs = 0;
    static constexpr Index parameter_count = 0;
    static constexpr Index size = Size, stride = Stride;

    static constexpr Shape output_shape(Shape in) {
        return Shape{in.channels, (in.height - Size) / Stride + 1, (in.width - Size) / Stride + 1};
    }
    template <Index C, Index H, Index W>
    static constexpr bool accepts() {
        return window_check<Spec, window<Size>, padded_input<H, W>>::ok &&
               tiling_check<Spec, window<Size>, scratchnet::detail::stride<Stride>, padded_input<H, W>>::ok;
    }
    // Built by appending: g++ 12 warns falsely (-Wrestrict) on "literal" + string
    // once it inlines the insert that operator+ makes of it.
    static std::string name_with_sizes(const char* kind) {
        std::string s = kind;
        s += '<';
        s += std::to_string(Size);
        s += ',';
        s += std::to_string(Stride);
        s += '>';
        return s;
    }
};

/// Geometry of a pool bound to an input of C x H x W.
template <Index Size, Index Stride, Index C, Index H, Index W>
struct PoolGeometry {
    static constexpr Index kOutH = (H - Size) / Stride + 1;
    static constexpr Index kOutW = (W - Size) / Stride + 1;
    static constexpr Index kIn = C * H * W;
    static constexpr Index kOut = C * kOutH * kOutW;
    /// Index in the sample of window (c, y, x)'s top-left input.
    static constexpr Index corner(Index c, Index y, Index x) { return (c * H + y * Stride) * W + x * Stride; }
    /// Windows of this size and stride put each input in exactly one window (the
    /// tiling check leaves none out), so a backward pass may write each input's
    /// gradient once rather than zero dX and add (AvgPool2D does).
    static constexpr bool kPartition = Size == Stride;
    /// f(o, k) for each output o, in order, and each input k of its window.
    template <class F>
    static void for_each_window_input(F&& f) {
        Index o = 0;
        for (Index c = 0; c < C; ++c)
            for (Index oy = 0; oy < kOutH; ++oy)
                for (Index ox = 0; ox < kOutW; ++ox, ++o)
                    for (Index i = 0; i < Size; ++i)
                        for (Index j = 0; j < Size; ++j) f(o, corner(c, oy, ox) + i * W + j);
    }
};
}  // namespace detail

template <Index Size, Index Stride = Size>
struct MaxPool2D : detail::PoolSpec<MaxPool2D<Size, Stride>, Size, Stride> {
    template <class T, Index C, Index H, Index W>
    using bind_image = detail::MaxPoolLayer<Size, Stride, T, C, H, W>;
    static std::string name() { return MaxPool2D::name_with_sizes("MaxPool2D"); }
};

template <Index Size, Index Stride = Size>
struct AvgPool2D : detail::PoolSpec<AvgPool2D<Size, Stride>, Size, Stride> {
    template <class T, Index C, Index H, Index W>
    using bind_image = detail::AvgPoolLayer<Size, Stride, T, C, H, W>;
    static std::string name() { return AvgPool2D::name_with_sizes("AvgPool2D"); }
};

namespace detail {

template <Index Size, Index Stride, class T, Index C, Index H, Index W>
class MaxPoolLayer : public MaxPool2D<Size, Stride>, PoolGeometry<Size, Stride, C, H, W> {
    using G = PoolGeometry<Size, Stride, C, H, W>;
    static_assert(G::kIn <= std::numeric_limits<std::int32_t>::max(),
                  "scratchnet::MaxPool2D: an input of more than 2^31 features per sample");

public:
    /// Where each output's maximum came from: its index in the sample's input.
    struct Scratch {
        Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic> source;
    };

    template <class D>
    void forward(const Eigen::MatrixBase<D>& X, Matrix<T>& Y, Scratch& s, const Pass& = {}) const {
        s.source.resize(G::kOut, X.cols());
        run_for_active_isa([&] {
        for (Index n = 0; n < X.cols(); ++n) {
            const T* x = X.derived().data() + n * X.derived().outerStride();
            T* y = Y.col(n).data();
            std::int32_t* from = s.source.col(n).data();
            Index o = 0;
            for (Index c = 0; c < C; ++c)
                for (Index oy = 0; oy < G::kOutH; ++oy) {
                    const Index row = G::corner(c, oy, 0);
                    for (Index ox = 0; ox < G::kOutW; ++ox, ++o) {
                        // Selects, not branches: which input wins is data, and a
                        // mispredicted branch per input cost more than the whole window.
                        Index best = row + ox * Stride;
                        T top = x[best];
                        for (Index i = 0; i < Size; ++i)
                            for (Index j = 0; j < Size; ++j) {
                                const Index k = row + i * W + ox * Stride + j;
                                const T v = x[k];
                                // A NaN wins and stays: it reaches the output, where fit's check sees it.
                                const bool take = v > top || (std::isnan(v) && !std::isnan(top));
                                best = take ? k : best;
                                top = take ? v : top;
                            }
                        y[o] = top;
                        from[o] = static_cast<std::int32_t>(best);
                    }
                }
        }
        });
    }

    template <class D>
    void backward(const Eigen::MatrixBase<D>&, const Matrix<T>& dY, Matrix<T>* dX, T*, Scratch& s,
                  const Pass& = {}) const {
        if (dX == nullptr) return;
        // Zeroing and adding at the maxima, even where the windows tile the input:
        // writing every input once, zeros by selection, costs more (the benchmark times it).
        dX->setZero();
        for (Index n = 0; n < dY.cols(); ++n) {
            const std::int32_t* from = s.source.col(n).data();
            T* dx = dX->col(n).data();
            const T* dy = dY.col(n).data();
            for (Index o = 0; o < G::kOut; ++o) dx[from[o]] += dy[o];
        }
    }

    std::uint64_t branch_signature(const Scratch& s) const {
        std::uint64_t h = 0;
        for (Index k = 0; k < s.source.size(); ++k) h = mix64(h ^ static_cast<std::uint64_t>(s.source.data()[k]));
        return h;
    }
};

template <Index Size, Index Stride, class T, Index C, Index H, Index W>
class AvgPoolLayer : public AvgPool2D<Size, Stride>, PoolGeometry<Size, Stride, C, H, W> {
    using G = PoolGeometry<Size, Stride, C, H, W>;
    static constexpr T kShare = T(1) / T(Size * Size);

public:
    template <class D>
    void forward(const Eigen::MatrixBase<D>& X, Matrix<T>& Y, NoScratch&, const Pass& = {}) const {
        for (Index n = 0; n < X.cols(); ++n) {
            const T* x = X.derived().data() + n * X.derived().outerStride();
            T* y = Y.col(n).data();
            Index o = 0;
            for (Index c = 0; c < C; ++c)
                for (Index oy = 0; oy < G::kOutH; ++oy)
                    for (Index ox = 0; ox < G::kOutW; ++ox, ++o) {
                        T sum = 0;
                        for (Index i = 0; i < Size; ++i)
                            for (Index j = 0; j < Size; ++j) sum += x[G::corner(c, oy, ox) + i * W + j];
                        y[o] = sum * kShare;
                    }
        }
    }

    template <class D>
    void backward(const Eigen::MatrixBase<D>&, const Matrix<T>& dY, Matrix<T>* dX, T*, NoScratch&,
                  const Pass& = {}) const {
        if (dX == nullptr) return;
        if constexpr (!G::kPartition) dX->setZero();
        for (Index n = 0; n < dY.cols(); ++n) {
            T* dx = dX->col(n).data();
            const T* dy = dY.col(n).data();
            if constexpr (G::kPartition)
                G::for_each_window_input([&](Index o, Index k) { dx[k] = dy[o] * kShare; });
            else
                G::for_each_window_input([&](Index o, Index k) { dx[k] += dy[o] * kShare; });
        }
    }
};

}  // namespace detail
}  // namespace scratchnet
