#pragma once
// Compile-time plan of a network: which template arguments are layers, whether
// neighbouring shapes agree, each layer's input and output shape, where its parameters
// start in the flat buffer, and which workspace buffer holds its output.
// Everything here is a constexpr array over a flat pack: no recursive nesting.

#include "scratchnet/core.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/shape.hpp"

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

template <class L, Index Gives>
constexpr bool check_input() {
    if constexpr (L::inputs != 0 && Gives != 0)
        return shape_check<L, expects_inputs<L::inputs>, previous_layer_gives<Gives>>::ok;
    else
        return true;
}

template <class L, bool HasInput, Index C, Index H, Index W>
constexpr bool check_image() {
    if constexpr (requires { L::template accepts<C, H, W>(); })
        return image_shape_known<L, HasInput>::ok && L::template accepts<C, H, W>();
    else if constexpr (L::inputs != 0)
        return flat_input_check<L, image<C, H, W>>::ok;
    else
        return true;
}

/// Static facts about the layer pack Ls (the loss already split off); In is the
/// network's Input<C, H, W>, or NoInput.
template <class In, class... Ls>
struct Plan {
    static constexpr std::size_t depth = sizeof...(Ls);
    static constexpr bool has_input = is_input<In>;
    static constexpr std::array<bool, depth> elementwise{is_elementwise<Ls>()...};
    static constexpr std::array<bool, depth> view{is_view<Ls>()...};
    static constexpr std::array<Index, depth> declared_inputs{Index{Ls::inputs}...};

    /// The shape of one input sample: Input's, or the first sized layer's inputs, flat.
    static constexpr Shape input_shape = [] {
        if constexpr (has_input) {
            return In::shape;
        } else {
            for (std::size_t i = 0; i < depth; ++i)
                if (declared_inputs[i] != 0) return Shape{declared_inputs[i], 1, 1};
            return Shape{0, 1, 1};
        }
    }();
    static constexpr Index input_size = input_shape.size();

    /// Shape of the data entering layer i, and of layer i's output: a left fold of
    /// each layer's shape map over the pack, through an array of function pointers
    /// (flat, no recursive instantiation).
    static constexpr std::array<Shape, depth> shape_in = [] {
        constexpr std::array<Shape (*)(Shape), depth> maps{&shape_after<Ls>...};
        std::array<Shape, depth> s{};
        Shape shape = input_shape;
        for (std::size_t i = 0; i < depth; ++i) {
            s[i] = shape;
            shape = maps[i](shape);
        }
        return s;
    }();
    static constexpr std::array<Shape, depth> shape_out = [] {
        constexpr std::array<Shape (*)(Shape), depth> maps{&shape_after<Ls>...};
        std::array<Shape, depth> s{};
        for (std::size_t i = 0; i < depth; ++i) s[i] = maps[i](shape_in[i]);
        return s;
    }();

    static constexpr std::array<Index, depth> width_in = [] {
        std::array<Index, depth> w{};
        for (std::size_t i = 0; i < depth; ++i) w[i] = shape_in[i].size();
        return w;
    }();
    static constexpr std::array<Index, depth> width_out = [] {
        std::array<Index, depth> w{};
        for (std::size_t i = 0; i < depth; ++i) w[i] = shape_out[i].size();
        return w;
    }();

    /// Whether layer i reads the network's input itself (it is first, or only
    /// views come before it).
    static constexpr std::array<bool, depth> reads_input = [] {
        std::array<bool, depth> r{};
        bool only_views = true;
        for (std::size_t i = 0; i < depth; ++i) {
            r[i] = only_views;
            only_views = only_views && view[i];
        }
        return r;
    }();
    static constexpr Index output_size = width_out[depth - 1];

    /// Parameters and state each layer owns at the shape it meets.
    static constexpr std::array<Index, depth> parameter_counts = [] {
        constexpr std::array<Index (*)(Shape), depth> counts{&parameters_of<Ls>...};
        std::array<Index, depth> n{};
        for (std::size_t i = 0; i < depth; ++i) n[i] = counts[i](shape_in[i]);
        return n;
    }();
    static constexpr std::array<Index, depth> state_counts = [] {
        constexpr std::array<Index (*)(Shape), depth> counts{&state_of<Ls>...};
        std::array<Index, depth> n{};
        for (std::size_t i = 0; i < depth; ++i) n[i] = counts[i](shape_in[i]);
        return n;
    }();
    static constexpr std::array<Index, depth> state_offset = [] {
        std::array<Index, depth> o{};
        Index sum = 0;
        for (std::size_t i = 0; i < depth; ++i) {
            o[i] = sum;
            sum += state_counts[i];
        }
        return o;
    }();
    static constexpr Index state_count = state_offset[depth - 1] + state_counts[depth - 1];

    static constexpr std::array<Index, depth> parameter_offset = [] {
        std::array<Index, depth> o{};
        Index sum = 0;
        for (std::size_t i = 0; i < depth; ++i) {
            o[i] = sum;
            sum += parameter_counts[i];
        }
        return o;
    }();

    static constexpr Index parameter_count = parameter_offset[depth - 1] + parameter_counts[depth - 1];

    /// Workspace buffer holding layer i's output. An activation right after a
    /// layer that computes (not elementwise, not a view) works in place on that
    /// layer's output (nothing downstream needs the pre-activation, and such a layer
    /// never reads its output in backward), even with views between them. A view
    /// shares its input's buffer. Other layers get a buffer of their own.
    static constexpr std::array<std::size_t, depth> buffer = [] {
        std::array<std::size_t, depth> b{};
        std::size_t next = 0;
        for (std::size_t i = 0; i < depth; ++i) {
            std::size_t before = i;  // the nearest layer before i that is no view
            while (before > 0 && view[before - 1]) --before;
            const bool after_compute = before > 0 && !elementwise[before - 1];
            if (view[i] && i > 0)
                b[i] = b[i - 1];
            else if (elementwise[i] && after_compute)
                b[i] = b[i - 1];
            else
                b[i] = next++;
        }
        return b;
    }();

    static constexpr std::size_t buffer_count = buffer[depth - 1] + 1;

    /// Scalars per sample a forward pass holds: each output buffer once, and what
    /// each layer holds inside (pass_width_for, layer.hpp).
    static constexpr Index pass_width = [] {
        constexpr std::array<Index (*)(Shape), depth> inner{&pass_width_of<Ls>...};
        Index n = 0;
        for (std::size_t i = 0; i < depth; ++i) {
            n += inner[i](shape_in[i]);
            if (i == 0 || buffer[i] != buffer[i - 1]) n += width_out[i];
        }
        return n;
    }();

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

    /// A view reinterprets its input's buffer: it cannot change the size.
    static constexpr bool views_keep_size = [] {
        for (std::size_t i = 0; i < depth; ++i)
            if (view[i] && width_out[i] != width_in[i]) return false;
        return true;
    }();
    static_assert(views_keep_size,
                  "scratchnet::Network: a view layer (view = true, as Flatten) must give as many features as it "
                  "takes: its output is its input's buffer");

    /// Instantiates one shape_check per sized layer and each image layer's
    /// accepts<C, H, W>(); true when all agree.
    template <std::size_t... Is>
    static constexpr bool shapes_agree(std::index_sequence<Is...>) {
        return ((check_input<Ls, width_in[Is]>() &&
                 check_image<Ls, has_input, shape_in[Is].channels, shape_in[Is].height, shape_in[Is].width>()) &&
                ...);
    }
};

}  // namespace detail
}  // namespace scratchnet
