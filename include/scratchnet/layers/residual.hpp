#pragma once
// Residual<Layers...>: y = x + f(x), where f is the chain Layers... (He et al. 2016).
// Residual<Layers..., Shortcut<Projection...>>: y = g(x) + f(x), where the shortcut g
// is a chain of its own (a 1 x 1 convolution of stride 2, say), for blocks that
// change the shape. The two paths must meet in one shape: a compile error names the
// block and both shapes otherwise.
//
// A block is a layer of the layer contract (layer.hpp), so blocks nest, in a
// Network<...> and in each other, and hold any layer. Its parameters are its
// chains' in a row (main path, then shortcut), inside the network's flat buffer.
// Each path is a detail::LayerChain (detail/layer_chain.hpp), the network's own walk
// over a flat pack, with its buffers in the block's per-pass scratch.
//
//   forward:   y = f(x) + g(x)          (g(x) = x without a shortcut)
//   backward:  dL/dx = f'(x)^T dy + g'(x)^T dy,  each chain's parameter gradients in place.

#include "scratchnet/core.hpp"
#include "scratchnet/detail/layer_chain.hpp"
#include "scratchnet/detail/layer_pack.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/shape.hpp"

#include <array>
#include <cstdint>
#include <type_traits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace scratchnet {

/// The shortcut path of a Residual block, written last in it.
template <class... Layers>
struct Shortcut {};

namespace detail {

// Named so that a failed check prints both shapes in words:
//   "residual_check<Residual<...>, main_path_gives<16, 14, 14>, shortcut_gives<16, 28, 28>>".
template <Index C, Index H, Index W>
struct main_path_gives {};
template <Index C, Index H, Index W>
struct shortcut_gives {};
template <class Block, class Main, class Short>
struct residual_check;
template <class Block, Index C1, Index H1, Index W1, Index C2, Index H2, Index W2>
struct residual_check<Block, main_path_gives<C1, H1, W1>, shortcut_gives<C2, H2, W2>> {
    static constexpr bool ok = C1 == C2 && H1 == H2 && W1 == W2;
    static_assert(ok,
                  "scratchnet::Residual: the main path and the shortcut must give one shape: this block's "
                  "main_path_gives<C, H, W> differs from what its shortcut_gives (the input itself, where the "
                  "block has no Shortcut<...>): see the numbers in the line above");
};

template <class T, Index C, Index H, Index W, class Spec, class Main, class Short>
class ResidualLayer;

template <class L>
inline constexpr bool is_shortcut = false;
template <class... Ls>
inline constexpr bool is_shortcut<Shortcut<Ls...>> = true;

template <class L>
struct shortcut_layers {
    using type = std::tuple<>;
};
template <class... Ls>
struct shortcut_layers<Shortcut<Ls...>> {
    using type = std::tuple<Ls...>;
};

/// Splits Residual's arguments into the main path and the shortcut (empty: identity).
template <class... Ls>
struct residual_parts {
    static constexpr std::size_t n = sizeof...(Ls);
    static constexpr bool has_shortcut = is_shortcut<nth_t<n - 1, Ls...>>;
    template <std::size_t... Is>
    static auto take(std::index_sequence<Is...>) -> std::tuple<nth_t<Is, Ls...>...>;
    using main = decltype(take(std::make_index_sequence<has_shortcut ? n - 1 : n>{}));
    using shortcut = typename shortcut_layers<nth_t<n - 1, Ls...>>::type;
    static_assert(std::tuple_size_v<main> > 0, "scratchnet::Residual<...>: the main path needs at least one layer");
};

template <class Tuple>
struct tuple_shape;
template <class... Ls>
struct tuple_shape<std::tuple<Ls...>> {
    static constexpr Shape of(Shape in) { return chain_shape<Ls...>(in); }
    /// Parameters and state of the chain on input shape `in`: each layer's at the
    /// shape it meets.
    static constexpr Index parameters([[maybe_unused]] Shape in) {
        Index n = 0;
        ((n += parameters_of<Ls>(in), in = shape_after<Ls>(in)), ...);
        return n;
    }
    static constexpr Index state([[maybe_unused]] Shape in) {
        Index n = 0;
        ((n += state_of<Ls>(in), in = shape_after<Ls>(in)), ...);
        return n;
    }
    /// Scalars per sample a forward pass of the chain holds: every layer's output
    /// (LayerChain gives each its own buffer) and what each holds inside.
    static constexpr Index pass_width([[maybe_unused]] Shape in) {
        Index n = 0;
        ((n += pass_width_of<Ls>(in), in = shape_after<Ls>(in), n += in.size()), ...);
        return n;
    }
    static std::string names() { return chain_names<Ls...>(); }
};

}  // namespace detail

/// y = x + f(x) for the chain Layers...; with a last argument Shortcut<...>,
/// y = g(x) + f(x). Takes its size from its input, like an activation.
template <class... Layers>
struct Residual {
    static_assert(sizeof...(Layers) > 0, "scratchnet::Residual<...>: the main path needs at least one layer");

private:
    using Parts = detail::residual_parts<Layers...>;
    using Main = detail::tuple_shape<typename Parts::main>;
    using Short = detail::tuple_shape<typename Parts::shortcut>;
    static constexpr bool has_shortcut = std::tuple_size_v<typename Parts::shortcut> > 0;

public:
    static constexpr Index inputs = 0;
    static constexpr Index outputs = 0;
    static constexpr Index parameter_count_for(Shape in) { return Main::parameters(in) + Short::parameters(in); }
    static constexpr Index state_count_for(Shape in) { return Main::state(in) + Short::state(in); }
    static constexpr Index pass_width_for(Shape in) { return Main::pass_width(in) + Short::pass_width(in); }
    /// The main path's shape (that both paths give it is checked where the block is bound).
    static constexpr Shape output_shape(Shape in) { return Main::of(in); }
    template <class T, Index C, Index H, Index W>
    using bind_image = detail::ResidualLayer<T, C, H, W, Residual, typename Parts::main, typename Parts::shortcut>;
    static std::string name() {
        return "Residual<" + Main::names() + (has_shortcut ? ",Shortcut<" + Short::names() + ">" : std::string()) + ">";
    }
};

namespace detail {

template <class T, Index C, Index H, Index W, class Spec, class... Main, class... Short>
class ResidualLayer<T, C, H, W, Spec, std::tuple<Main...>, std::tuple<Short...>> {
    using MainChain = LayerChain<T, C, H, W, Main...>;
    static constexpr bool has_shortcut = sizeof...(Short) > 0;
    struct NoChain {
        static constexpr Index parameter_count = 0;
        static constexpr Index state_count = 0;
        static constexpr Shape output_shape{C, H, W};
        struct Scratch {};
    };
    using ShortChain = std::conditional_t<has_shortcut, LayerChain<T, C, H, W, Short...>, NoChain>;
    static constexpr Shape kMain = MainChain::output_shape, kShort = ShortChain::output_shape;
    static_assert(residual_check<Spec,
                                 main_path_gives<kMain.channels, kMain.height, kMain.width>,
                                 shortcut_gives<kShort.channels, kShort.height, kShort.width>>::ok);

public:
    struct Scratch {
        typename MainChain::Scratch main;
        typename ShortChain::Scratch shortcut;
        Matrix<T> dx_shortcut;
    };

    /// The block's tensors (tensors.hpp): "main.<i>." and "shortcut.<i>." before
    /// each inner layer's, i its position on its path, as in a PyTorch module with
    /// attributes main and shortcut, each an nn.Sequential.
    static std::vector<TensorLayout> tensors()
        requires HasTensors<MainChain> && (!has_shortcut || HasTensors<ShortChain>)
    {
        std::vector<TensorLayout> out;
        append_tensors(out, MainChain::tensors(), "main.", 0, 0);
        if constexpr (has_shortcut)
            append_tensors(out, ShortChain::tensors(), "shortcut.", MainChain::parameter_count, MainChain::state_count);
        return out;
    }

    void attach(T* params) {
        main_.attach(params);
        if constexpr (has_shortcut) shortcut_.attach(params + MainChain::parameter_count);
    }
    void initialize(Rng& rng, Init init) {
        main_.initialize(rng, init);
        if constexpr (has_shortcut) shortcut_.initialize(rng, init);
    }
    void attach_state(T* state) {
        main_.attach_state(state);
        if constexpr (has_shortcut) shortcut_.attach_state(state + MainChain::state_count);
    }
    void initialize_state() {
        main_.initialize_state();
        if constexpr (has_shortcut) shortcut_.initialize_state();
    }
    void measure_state(const Scratch& s, T* out) const {
        main_.measure_state(s.main, out);
        if constexpr (has_shortcut) shortcut_.measure_state(s.shortcut, out + MainChain::state_count);
    }
    void fold_state(const T* measured) {
        main_.fold_state(measured);
        if constexpr (has_shortcut) shortcut_.fold_state(measured + MainChain::state_count);
    }

    void forward(const BatchView<T>& X, Matrix<T>& Y, Scratch& s, const Pass& pass) const {
        const Index n = X.cols(), width = kMain.size();
        const BatchView<T> F(main_.forward(X, s.main, pass.for_layer(0)), width, n);
        if constexpr (has_shortcut)
            Y.noalias() = F + BatchView<T>(shortcut_.forward(X, s.shortcut, pass.for_layer(1)), width, n);
        else
            Y.noalias() = F + X;
    }

    void backward(const BatchView<T>& X, const Matrix<T>& dY, Matrix<T>* dX, T* grad, Scratch& s,
                  const Pass& pass) const {
        main_.backward(X, dY, dX, grad, s.main, pass.for_layer(0));
        if constexpr (has_shortcut) {
            Matrix<T>* ds = dX != nullptr ? &s.dx_shortcut : nullptr;
            if (ds != nullptr) ds->resize(X.rows(), X.cols());
            shortcut_.backward(X, dY, ds, grad + MainChain::parameter_count, s.shortcut, pass.for_layer(1));
            if (dX != nullptr) *dX += *ds;
        } else if (dX != nullptr) {
            *dX += dY;
        }
    }

    std::uint64_t branch_signature(const Scratch& s) const {
        std::uint64_t h = main_.branch_signature(s.main);
        if constexpr (has_shortcut) h = mix64(h ^ shortcut_.branch_signature(s.shortcut));
        return h;
    }

    /// The main path's I-th layer, and the shortcut's.
    template <std::size_t I>
    auto& main_layer() { return main_.template layer<I>(); }
    template <std::size_t I>
    const auto& main_layer() const { return main_.template layer<I>(); }
    template <std::size_t I>
    auto& shortcut_layer() requires has_shortcut { return shortcut_.template layer<I>(); }
    template <std::size_t I>
    const auto& shortcut_layer() const requires has_shortcut { return shortcut_.template layer<I>(); }

private:
    MainChain main_;
    [[no_unique_address]] std::conditional_t<has_shortcut, ShortChain, NoChain> shortcut_;
};

}  // namespace detail
}  // namespace scratchnet
