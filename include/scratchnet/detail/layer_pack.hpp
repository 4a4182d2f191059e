#pragma once
// The network's parts, sorted at compile time: Parts... of Network<...> split into
// an optional Input<C, H, W>, the layer specs and the loss; each spec bound to its
// layer type for the scalar and the input shape it meets; and the checks that each
// part meets its contract, naming the part that does not. Flat packs throughout:
// no recursive nesting.

#include "scratchnet/core.hpp"
#include "scratchnet/detail/plan.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/losses.hpp"
#include "scratchnet/shape.hpp"
#include "scratchnet/task.hpp"

#include <cstddef>
#include <tuple>
#include <utility>

namespace scratchnet::detail {
template <class Tuple>
struct scratch_of;
template <class... Bs>
struct scratch_of<std::tuple<Bs...>> {
    using type = std::tuple<scratch_t<Bs>...>;
};

template <class Plan, class T, class... Ls, std::size_t... Is>
auto bind_layers(std::index_sequence<Is...>)
    -> std::tuple<typename bound_at<Ls, T, Plan::shape_in[Is].channels, Plan::shape_in[Is].height,
                                    Plan::shape_in[Is].width>::type...>;

/// Splits Parts... into the optional Input (first), the layer specs and the loss (last).
template <class T, class In, class... Ls>
struct LayerPack {
    using input = In;
    using plan = Plan<In, Ls...>;
    using layers = decltype(bind_layers<plan, T, Ls...>(std::index_sequence_for<Ls...>{}));
    using scratch = typename scratch_of<layers>::type;
    using specs = std::tuple<Ls...>;
};
template <class T, class... Parts, std::size_t... Is>
auto split_layers(std::index_sequence<Is...>) {
    if constexpr (is_input<nth_t<0, Parts...>>)
        return LayerPack<T, nth_t<0, Parts...>, nth_t<Is + 1, Parts...>...>{};
    else
        return LayerPack<T, NoInput, nth_t<Is, Parts...>...>{};
}
template <class P, bool First>
constexpr bool check_part() {
    if constexpr (First && is_input<P>)
        return true;
    else
        return check_spec<P>();
}
template <class... Parts, std::size_t... Is>
constexpr bool specs_are_layers(std::index_sequence<Is...>) {
    return (check_part<nth_t<Is, Parts...>, Is == 0>() && ...);
}
/// The layers of Parts...: all but the loss and a leading Input.
template <class... Parts>
inline constexpr std::size_t layer_count = sizeof...(Parts) - 1 - (is_input<nth_t<0, Parts...>> ? 1 : 0);
template <class Layers, class Specs, class T, class Plan, std::size_t... Is>
constexpr bool check_layers(std::index_sequence<Is...>) {
    return (check_layer<std::tuple_element_t<Is, Specs>, std::tuple_element_t<Is, Layers>, T,
                        Plan::parameter_counts[Is], Plan::state_counts[Is]>() &&
            ...);
}

/// A loss that takes logs needs probabilities: the last layer must declare them
/// (layer.hpp: gives_probabilities), whoever wrote it.
template <class Last, class L>
constexpr bool check_loss_input() {
    static_assert(!takes_probabilities<L>() || gives_probabilities<Last>(),
                  "scratchnet::Network: this loss takes the log of probabilities (takes_probabilities), but the last "
                  "layer does not declare gives_probabilities: end the network in Softmax (CrossEntropy) or Sigmoid "
                  "(BinaryCrossEntropy), or declare the trait in your own output layer");
    return true;
}

/// A classification loss over one output would judge every sample class 0.
template <class L, Index Outputs>
constexpr bool check_task() {
    static_assert(!(declared_task<L>() == Task::classification && Outputs == 1),
                  "scratchnet::Network: a classification loss (CrossEntropy) over one output has a single class: "
                  "use Dense<n, 1>, Sigmoid, BinaryCrossEntropy for a yes/no answer");
    return true;
}

}  // namespace scratchnet::detail
