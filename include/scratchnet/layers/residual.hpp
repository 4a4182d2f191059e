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
// Each chain is the network's own walk over a flat pack (detail/layer_pack.hpp's
// plan), with a buffer per layer output kept in the block's per-pass scratch: no
// allocation once a batch size has been seen.
//
//   forward:   y = f(x) + g(x)          (g(x) = x without a shortcut)
//   backward:  dL/dx = f'(x)^T dy + g'(x)^T dy,  each chain's parameter gradients in place.

#include "scratchnet/core.hpp"
#include "scratchnet/detail/layer_pack.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/shape.hpp"

#include <array>
#include <cstdint>
#include <type_traits>
#include <string>
#include <tuple>
#include <utility>

namespace scratchnet {

/// The shortcut path of a Residual block, written last in it.
template <class... Layers>
struct Shortcut {};

namespace detail {

/// The shape a chain Ls... gives for input shape `in`.
template <class... Ls>
constexpr Shape chain_shape(Shape in) {
    ((in = shape_after<Ls>(in)), ...);
    return in;
}

template <class... Ls>
std::string chain_names() {
    std::string s;
    ((s += (s.empty() ? "" : ","), s += std::string(Ls::name())), ...);
    return s;
}

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

/// A chain of layers Ls... on inputs of shape C x H x W, for scalar T: what a
/// Residual block runs on each path. Each layer's output and dL/d(output) have a
/// buffer of their own in Scratch.
template <class T, Index C, Index H, Index W, class... Ls>
class LayerChain {
    static_assert(specs_are_layers<Input<C, H, W>, Ls...>(std::make_index_sequence<sizeof...(Ls) + 1>{}));
    using Pack = LayerPack<T, Input<C, H, W>, Ls...>;
    using Plan = typename Pack::plan;
    static_assert(
        check_layers<typename Pack::layers, typename Pack::specs, T, Plan>(std::make_index_sequence<Plan::depth>{}));
    static_assert(Plan::shapes_agree(std::make_index_sequence<Plan::depth>{}));
    static constexpr std::size_t depth = Plan::depth;
    template <std::size_t I>
    using spec_t = std::tuple_element_t<I, typename Pack::specs>;
    template <std::size_t I>
    using layer_t = std::tuple_element_t<I, typename Pack::layers>;

public:
    static constexpr Index parameter_count = Plan::parameter_count;
    static constexpr Index state_count = Plan::state_count;
    static constexpr Shape output_shape = chain_shape<Ls...>(Shape{C, H, W});
    static constexpr Index output_size = output_shape.size();

    struct Scratch {
        typename Pack::scratch layers;
        std::array<Matrix<T>, depth> out, delta;
    };

    void attach(T* params) {
        for_each_layer([&]<std::size_t I>(auto& layer) {
            if constexpr (Plan::parameter_counts[I] > 0) layer.attach(params + Plan::parameter_offset[I]);
        });
    }
    void attach_state(T* state) {
        for_each_layer([&]<std::size_t I>(auto& layer) {
            if constexpr (Plan::state_counts[I] > 0) layer.attach_state(state + Plan::state_offset[I]);
        });
    }
    void initialize_state() {
        for_each_layer([&]<std::size_t I>(auto& layer) {
            if constexpr (Plan::state_counts[I] > 0) layer.initialize_state();
        });
    }
    void measure_state(const Scratch& s, T* out) const {
        for_each_layer([&]<std::size_t I>(const auto& layer) {
            if constexpr (Plan::state_counts[I] > 0) layer.measure_state(std::get<I>(s.layers), out + Plan::state_offset[I]);
        });
    }
    void fold_state(const T* measured) {
        for_each_layer([&]<std::size_t I>(auto& layer) {
            if constexpr (Plan::state_counts[I] > 0) layer.fold_state(measured + Plan::state_offset[I]);
        });
    }

    /// Each parameter layer initialised as the layer after it asks; the last as
    /// `last` asks (what follows the block).
    void initialize(Rng& rng, Init last) {
        for_each_layer([&]<std::size_t I>(auto& layer) {
            if constexpr (Plan::parameter_counts[I] > 0) {
                if constexpr (I + 1 < depth)
                    layer.initialize(rng, init_before<spec_t<I + 1>>());
                else
                    layer.initialize(rng, last);
            }
        });
    }

    /// The chain's output for X (C*H*W x B), valid until s is used again.
    const T* forward(const BatchView<T>& X, Scratch& s, const Pass& pass) const {
        const T* in = X.data();
        [&]<std::size_t... Is>(std::index_sequence<Is...>) {
            ((in = forward_layer<Is>(in, X.cols(), s, pass)), ...);
        }(std::make_index_sequence<depth>{});
        return in;
    }

    /// From dY = dL/d(output): each layer's parameter gradient into grad (laid out as
    /// the chain's parameters), and dL/dX into *dX where dX is not null (sized by the
    /// caller). Needs the forward of the same X and s.
    void backward(const BatchView<T>& X, const Matrix<T>& dY, Matrix<T>* dX, T* grad, Scratch& s,
                  const Pass& pass) const {
        const Matrix<T>* d = &dY;
        [&]<std::size_t... Is>(std::index_sequence<Is...>) {
            ((d = backward_layer<depth - 1 - Is>(X, d, dX, grad, s, pass)), ...);
        }(std::make_index_sequence<depth>{});
    }

    /// A hash of the branch every kinked layer of the chain took in the last forward
    /// (the signs of its outputs), and of each inner layer's own branch_signature.
    std::uint64_t branch_signature(const Scratch& s) const {
        std::uint64_t h = 0;
        for_each_layer([&]<std::size_t I>(const auto& layer) {
            if constexpr (is_kinked<spec_t<I>>()) {
                const Matrix<T>& A = s.out[I];
                std::uint64_t word = 0;
                for (Index i = 0; i < A.size(); ++i) {
                    word = (word << 1) | (A.data()[i] > T(0) ? 1U : 0U);
                    if (i % 64 == 63 || i + 1 == A.size()) {
                        h = mix64(h ^ word);
                        word = 0;
                    }
                }
            }
            if constexpr (requires { { layer.branch_signature(std::get<I>(s.layers)) } -> std::convertible_to<std::uint64_t>; })
                h = mix64(h ^ layer.branch_signature(std::get<I>(s.layers)));
        });
        return h;
    }

    template <std::size_t I>
    auto& layer() { return std::get<I>(layers_); }
    template <std::size_t I>
    const auto& layer() const { return std::get<I>(layers_); }

    static std::string names() { return chain_names<Ls...>(); }

private:
    template <class F>
    void for_each_layer(F&& f) {
        [&]<std::size_t... Is>(std::index_sequence<Is...>) {
            (f.template operator()<Is>(std::get<Is>(layers_)), ...);
        }(std::make_index_sequence<depth>{});
    }
    template <class F>
    void for_each_layer(F&& f) const {
        [&]<std::size_t... Is>(std::index_sequence<Is...>) {
            (f.template operator()<Is>(std::get<Is>(layers_)), ...);
        }(std::make_index_sequence<depth>{});
    }

    /// Runs layer I on the data at `in` (its input); returns where its output is.
    template <std::size_t I>
    const T* forward_layer(const T* in, Index batch, Scratch& s, const Pass& pass) const {
        if constexpr (Plan::view[I]) {
            return in;  // the input itself, read under another shape
        } else {
            const auto& layer = std::get<I>(layers_);
            auto& scratch = std::get<I>(s.layers);
            Matrix<T>& A = s.out[I];
            if constexpr (Plan::elementwise[I]) {
                A = BatchView<T>(in, Plan::width_in[I], batch);
                if constexpr (FullElementwise<layer_t<I>, T>)
                    layer.forward(A, scratch, pass.for_layer(I));
                else
                    layer.forward(A);
            } else {
                A.resize(Plan::width_out[I], batch);
                layer.forward(BatchView<T>(in, Plan::width_in[I], batch), A, scratch, pass.for_layer(I));
            }
            return A.data();
        }
    }

    /// Layer I's input in the last forward: X, or the output of the layer before
    /// (through any views).
    template <std::size_t I>
    const T* input_of(const BatchView<T>& X, const Scratch& s) const {
        if constexpr (I == 0)
            return X.data();
        else if constexpr (Plan::view[I - 1])
            return input_of<I - 1>(X, s);
        else
            return s.out[I - 1].data();
    }

    /// Back-propagates through layer I from d = dL/d(its output); returns dL/d(its input).
    template <std::size_t I>
    const Matrix<T>* backward_layer(const BatchView<T>& X, const Matrix<T>* d, Matrix<T>* dX, T* grad, Scratch& s,
                                    const Pass& pass) const {
        // Where dL/d(input) goes: the caller's dX for layer 0, else this layer's delta.
        Matrix<T>* target = I == 0 ? dX : &s.delta[I];
        if constexpr (Plan::view[I]) {
            if (target == nullptr) return nullptr;
            *target = *d;  // same numbers, another shape: the view's gradient is its input's
            return target;
        } else if constexpr (Plan::elementwise[I]) {
            if (target == nullptr) return nullptr;
            *target = *d;
            const auto& layer = std::get<I>(layers_);
            if constexpr (FullElementwise<layer_t<I>, T>)
                layer.backward(s.out[I], *target, std::get<I>(s.layers), pass.for_layer(I));
            else
                layer.backward(s.out[I], *target);
            return target;
        } else {
            if (target != nullptr) target->resize(Plan::width_in[I], d->cols());
            std::get<I>(layers_).backward(BatchView<T>(input_of<I>(X, s), Plan::width_in[I], d->cols()), *d, target,
                                          grad + Plan::parameter_offset[I], std::get<I>(s.layers), pass.for_layer(I));
            return target;
        }
    }

    typename Pack::layers layers_;
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
