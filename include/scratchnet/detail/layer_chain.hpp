#pragma once
// LayerChain: a chain of layers Ls... run on their own, forward and backward over a
// batch, outside a Network: what each path of a Residual block is. It walks the
// same flat pack and plan as the network (detail/layer_pack.hpp, detail/plan.hpp)
// and checks the same contracts; each layer's output and dL/d(output) get a buffer
// of their own in the chain's per-pass Scratch, so nothing is allocated once a
// batch size has been seen.

#include "scratchnet/core.hpp"
#include "scratchnet/detail/layer_pack.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/shape.hpp"
#include "scratchnet/tensors.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace scratchnet::detail {

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
    static_assert(Plan::shapes_agree(std::make_index_sequence<Plan::depth>{}),
                  "scratchnet::Residual<...>: a layer of this block does not fit the shape it meets (the first error "
                  "names the layer and both sizes, the lines after it the block)");
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

    /// The chain's tensors (tensors.hpp), each inner module named by its position in
    /// the chain; declared where every inner layer with parameters or state declares its own.
    static std::vector<TensorLayout> tensors()
        requires(tensors_known<typename Pack::layers, Plan>())
    {
        return pack_tensors<typename Pack::layers, Plan>();
    }

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
            if constexpr (is_kinked<spec_t<I>>()) h = fold_signs(h, s.out[I]);
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

}  // namespace scratchnet::detail
