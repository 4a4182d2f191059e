#pragma once
// Named tensors: how a layer's slice of the parameter and state buffers reads as
// the tensors other frameworks store (PyTorch's names, shapes and row-major
// order). Weight files (weights/safetensors.hpp) are read and written through it.
//
// The contract, beside the layer contract (layer.hpp): a bound layer that owns
// parameters or state declares
//
//   static std::vector<TensorLayout> tensors()
//
//   requires  every parameter and state scalar of the layer lies in exactly one
//             tensor; names are unique within the layer; shape's product is the
//             tensor's size.
//   ensures   nothing: the function describes, it never touches the buffers.
//
// A plain layer's tensor names have no dot ("weight", "bias"): the layer is one
// module. A layer made of layers (Residual) names each inner module by a dotted
// path ("main.0.weight", "shortcut.1.running_mean"); the module of a tensor is its
// name up to the last dot. A layer with parameters that declares no tensors() can
// be trained and saved as a model file, but not read from or written to a weight
// file (a compile error that names this header).

#include "scratchnet/core.hpp"

#include <concepts>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace scratchnet {

/// Which buffer a tensor's values live in.
enum class TensorRole {
    parameter,  ///< the network's parameters (trained)
    state,      ///< the network's state (BatchNorm's running statistics)
    counter,    ///< stored by other frameworks only (BatchNorm's num_batches_tracked,
                ///< an int64 scalar): written as 0, read and ignored
};

/// One tensor of a layer, as PyTorch lays it out.
struct TensorLayout {
    std::string name;          ///< PyTorch's attribute ("weight"), or a dotted path inside a composite layer
    std::vector<Index> shape;  ///< PyTorch's shape; {} for a scalar
    TensorRole role = TensorRole::parameter;
    Index offset = 0;           ///< first scalar, counted from the layer's own slice of that buffer
    bool column_major = false;  ///< stored as a column-major matrix of shape[0] rows (the product of the
                                ///< other dimensions as columns), where PyTorch is row-major: Dense's and
                                ///< Conv2D's weights; otherwise the same order as PyTorch's
};

namespace detail {

/// Whether bound layer B declares its tensors.
template <class B>
concept HasTensors = requires {
    { B::tensors() } -> std::convertible_to<std::vector<TensorLayout>>;
};

/// The tensors of W x + b with W stored column-major as Rows x (the product of the
/// rest of `weight_shape`) and then b, Rows long: Dense and Conv2D.
inline std::vector<TensorLayout> affine_tensors(std::vector<Index> weight_shape) {
    const Index rows = weight_shape.front();
    Index size = 1;
    for (const Index d : weight_shape) size *= d;
    return {{"weight", std::move(weight_shape), TensorRole::parameter, 0, true},
            {"bias", {rows}, TensorRole::parameter, size, false}};
}

/// The tensors of `layer_tensors`, moved to `prefix` (a module path and a dot) and
/// to the given offsets in the enclosing layer's slices.
inline void append_tensors(std::vector<TensorLayout>& out, const std::vector<TensorLayout>& layer_tensors,
                           const std::string& prefix, Index parameter_offset, Index state_offset) {
    for (TensorLayout t : layer_tensors) {
        t.name = prefix + t.name;
        if (t.role == TensorRole::parameter) t.offset += parameter_offset;
        if (t.role == TensorRole::state) t.offset += state_offset;
        out.push_back(std::move(t));
    }
}

/// Whether every layer of the bound pack Layers (laid out by Plan) that owns
/// parameters or state declares its tensors.
template <class Layers, class Plan>
constexpr bool tensors_known() {
    return []<std::size_t... Is>(std::index_sequence<Is...>) {
        return ((HasTensors<std::tuple_element_t<Is, Layers>> ||
                 (Plan::parameter_counts[Is] == 0 && Plan::state_counts[Is] == 0)) &&
                ...);
    }(std::make_index_sequence<Plan::depth>{});
}

/// The tensors of a bound pack, each layer's module named by its position in the
/// pack as an nn.Sequential numbers it ("3.weight", "3.main.0.weight"), with
/// offsets into the pack's buffers.
template <class Layers, class Plan>
std::vector<TensorLayout> pack_tensors() {
    std::vector<TensorLayout> out;
    [&]<std::size_t... Is>(std::index_sequence<Is...>) {
        const auto add = [&]<std::size_t I>() {
            if constexpr (HasTensors<std::tuple_element_t<I, Layers>>)
                append_tensors(out, std::tuple_element_t<I, Layers>::tensors(), std::to_string(I) + ".",
                               Plan::parameter_offset[I], Plan::state_offset[I]);
        };
        (add.template operator()<Is>(), ...);
    }(std::make_index_sequence<Plan::depth>{});
    return out;
}

}  // namespace detail

}  // namespace scratchnet
