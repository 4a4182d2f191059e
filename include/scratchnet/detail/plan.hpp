#pragma once
// Compile-time plan of a network: which template arguments are layers, whether
// neighbouring shapes agree, how wide each layer's output is, where its parameters
// start in the flat buffer, and which workspace buffer holds its output.
// Everything here is a constexpr array over a flat pack: no recursive nesting.

#include "scratchnet/core.hpp"
#include "scratchnet/layer.hpp"

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace scratchnet {

namespace detail {

template <std::size_t I, class... Ts>
using nth_t = std::tuple_element_t<I, std::tuple<Ts...>>;

// Named so that a failed check prints the sizes in words:
//   "shape_check<Dense<64, 10>, expects_inputs<64>, previous_layer_gives<128>>"
template <Index N>
struct expects_inputs {};
template <Index N>
struct previous_layer_gives {};

template <class L, class Expects, class Gives>
struct shape_check;
template <class L, Index Expects, Index Gives>
struct shape_check<L, expects_inputs<Expects>, previous_layer_gives<Gives>> {
    static_assert(Expects == Gives,
                  "scratchnet::Network: shape mismatch: this layer expects_inputs<N> but the "
                  "previous_layer_gives<M> outputs (see the sizes in the line above)");
    static constexpr bool ok = Expects == Gives;
};

template <class L>
constexpr bool check_is_loss() {
    static_assert(Loss<L>,
                  "scratchnet::Network: the last template argument must be a loss "
                  "(CrossEntropy, MeanSquaredError, BinaryCrossEntropy)");
    return Loss<L>;
}

template <class L, Index Gives>
constexpr bool check_input() {
    if constexpr (L::inputs != 0 && Gives != 0)
        return shape_check<L, expects_inputs<L::inputs>, previous_layer_gives<Gives>>::ok;
    else
        return true;
}

/// Static facts about the layer pack Ls (the loss already split off).
template <class... Ls>
struct Plan {
    static constexpr std::size_t depth = sizeof...(Ls);
    static constexpr std::array<bool, depth> elementwise{is_elementwise<Ls>()...};
    static constexpr std::array<Index, depth> declared_inputs{Index{Ls::inputs}...};
    static constexpr std::array<Index, depth> declared_outputs{Index{Ls::outputs}...};
    static constexpr std::array<Index, depth> parameter_counts{Index{Ls::parameter_count}...};

    /// Width of the data entering layer i (0 while still unknown, before the first Dense).
    static constexpr std::array<Index, depth> width_in = [] {
        std::array<Index, depth> w{};
        Index width = 0;
        for (std::size_t i = 0; i < depth; ++i) {
            w[i] = width;
            if (declared_outputs[i] != 0) width = declared_outputs[i];
        }
        return w;
    }();

    static constexpr Index input_size = [] {
        for (std::size_t i = 0; i < depth; ++i)
            if (declared_inputs[i] != 0) return declared_inputs[i];
        return Index{0};
    }();

    /// Width of layer i's output.
    static constexpr std::array<Index, depth> width_out = [] {
        std::array<Index, depth> w{};
        for (std::size_t i = 0; i < depth; ++i) {
            const Index in = width_in[i] != 0 ? width_in[i] : input_size;
            w[i] = declared_outputs[i] != 0 ? declared_outputs[i] : in;
        }
        return w;
    }();

    static constexpr Index output_size = width_out[depth - 1];

    static constexpr std::array<Index, depth> parameter_offset = [] {
        std::array<Index, depth> o{};
        Index sum = 0;
        for (std::size_t i = 0; i < depth; ++i) {
            o[i] = sum;
            sum += parameter_counts[i];
        }
        return o;
    }();

    static constexpr Index parameter_count = (Index{0} + ... + Index{Ls::parameter_count});

    /// Workspace buffer holding layer i's output. An activation right after a
    /// parameter layer works in place on that layer's output (nothing downstream
    /// needs the pre-activation); other layers get a buffer of their own.
    static constexpr std::array<std::size_t, depth> buffer = [] {
        std::array<std::size_t, depth> b{};
        std::size_t next = 0;
        for (std::size_t i = 0; i < depth; ++i) {
            const bool in_place = elementwise[i] && i > 0 && !elementwise[i - 1];
            b[i] = in_place ? b[i - 1] : next++;
        }
        return b;
    }();

    static constexpr std::size_t buffer_count = buffer[depth - 1] + 1;

    /// Whether anything before layer i has parameters, i.e. whether the gradient
    /// with respect to layer i's input is worth computing.
    static constexpr std::array<bool, depth> input_gradient_needed = [] {
        std::array<bool, depth> need{};
        bool any = false;
        for (std::size_t i = 0; i < depth; ++i) {
            need[i] = any;
            any = any || parameter_counts[i] > 0;
        }
        return need;
    }();

    /// Instantiates one shape_check per sized layer; true when all agree.
    template <std::size_t... Is>
    static constexpr bool shapes_agree(std::index_sequence<Is...>) {
        return (check_input<Ls, width_in[Is]>() && ...);
    }
};

}  // namespace detail
}  // namespace scratchnet
