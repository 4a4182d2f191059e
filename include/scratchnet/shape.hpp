#pragma once
// Image shapes, known at compile time. A sample is one column of a batch; an image
// sample of shape C x H x W lies in that column channel-major, then row-major
// within a channel: feature (c, y, x) is row c*H*W + y*W + x. That is MNIST's pixel
// order (one channel), so load_mnist's columns feed a convolutional network
// unchanged. A flat vector of n features is the shape n x 1 x 1.
//
// Input<C, H, W>, written first in Network<...>, declares the shape of the
// network's inputs. Every layer's input shape then follows from the layers before
// it at compile time, and a layer that cannot take its input's shape fails to
// compile with a message that names both numbers.

#include "scratchnet/core.hpp"

#include <string>
#include <type_traits>

namespace scratchnet {

/// C x H x W: channels, rows, columns.
struct Shape {
    Index channels = 0;
    Index height = 1;
    Index width = 1;

    constexpr Index size() const { return channels * height * width; }
    /// A vector rather than an image: one row and one column per channel.
    constexpr bool flat() const { return height == 1 && width == 1; }
    friend constexpr bool operator==(const Shape&, const Shape&) = default;
};

/// "6x14x14", or "784" for a flat shape.
inline std::string to_string(const Shape& s) {
    if (s.flat()) return std::to_string(s.channels);
    return std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" + std::to_string(s.width);
}

/// The shape of a network's input samples; optional first element of Network<...>.
/// Without it the first layer's inputs are a flat vector.
template <Index C, Index H = 1, Index W = 1>
struct Input {
    static_assert(C > 0 && H > 0 && W > 0, "scratchnet::Input<C, H, W>: every size must be positive");
    static constexpr Shape shape{C, H, W};
    static std::string name() {
        return "Input<" + std::to_string(C) + "," + std::to_string(H) + "," + std::to_string(W) + ">";
    }
};

namespace detail {

template <class P>
inline constexpr bool is_input = false;
template <Index C, Index H, Index W>
inline constexpr bool is_input<Input<C, H, W>> = true;

/// Stands for "no Input<...> was given".
struct NoInput {};

// Named so that a failed check prints its numbers in words, e.g.
//   "channels_check<Conv2D<3,6,5,1,0>, expects_channels<3>, input_has_channels<1>>".
template <Index C, Index H, Index W>
struct image {};
template <Index N>
struct expects_channels {};
template <Index N>
struct input_has_channels {};
template <Index K>
struct window {};
template <Index S>
struct stride {};
template <Index H, Index W>
struct padded_input {};

template <class L, class Expects, class Has>
struct channels_check;
template <class L, Index Expects, Index Has>
struct channels_check<L, expects_channels<Expects>, input_has_channels<Has>> {
    static_assert(Expects == Has,
                  "scratchnet::Network: channel mismatch: this layer expects_channels<N> but its input "
                  "has_channels<M> (see the numbers in the line above)");
    static constexpr bool ok = Expects == Has;
};

template <class L, class Window, class In>
struct window_check;
template <class L, Index K, Index H, Index W>
struct window_check<L, window<K>, padded_input<H, W>> {
    static_assert(K <= H && K <= W,
                  "scratchnet::Network: this layer's window<K> is larger than its (padded) input, "
                  "padded_input<H, W> (see the numbers in the line above)");
    static constexpr bool ok = K <= H && K <= W;
};

template <class L, class Window, class Stride, class In>
struct tiling_check;
template <class L, Index K, Index S, Index H, Index W>
struct tiling_check<L, window<K>, stride<S>, padded_input<H, W>> {
    static constexpr bool ok = K > H || K > W || ((H - K) % S == 0 && (W - K) % S == 0);  // a window too large is window_check's
    static_assert(ok,
                  "scratchnet::Network: this layer's window<K> moved by stride<S> does not tile its "
                  "padded_input<H, W>: (H - K) and (W - K) must be multiples of S, or the last rows or "
                  "columns would be silently ignored (see the numbers in the line above)");
};

template <class L, class Image>
struct flat_input_check;
template <class L, Index C, Index H, Index W>
struct flat_input_check<L, image<C, H, W>> {
    static constexpr bool ok = H == 1 && W == 1;
    static_assert(ok,
                  "scratchnet::Network: this layer takes a flat vector but its input is an image<C, H, W>: "
                  "put Flatten before it");
};

template <class L, bool HasInput>
struct image_shape_known {
    static_assert(HasInput,
                  "scratchnet::Network: this layer works on images and needs their shape: start the network "
                  "with Input<C, H, W>, e.g. Network<Input<1, 28, 28>, Conv2D<1, 8, 3>, ...>");
    static constexpr bool ok = HasInput;
};

}  // namespace detail
}  // namespace scratchnet
