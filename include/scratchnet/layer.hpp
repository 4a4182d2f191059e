#pragma once
// The layer contract: what a type must offer to stand in Network<...>, written so
// that a layer can be defined outside the library (tests/test_layer.cpp defines a
// PReLU that way). A layer comes in two parts:
//
// The SPEC, the type written in Network<...>:
//   static constexpr Index inputs, outputs     sizes; 0 means "the previous layer's
//                                              size" (shape-preserving layers)
//   static constexpr Index parameter_count     scalars it owns in the flat buffer; or,
//                                              where that depends on its input (a
//                                              layer that takes its size from it):
//   static constexpr Index parameter_count_for(Shape in)
//   static std::string name()                  e.g. "Dense<784,128>"; goes into
//                                              architecture() and model files
//   (Sizes are flat feature counts. A layer that reads an image's C x H x W, or
//   changes it, says so with the image members below and declares 0 and 0 here.)
//   optional:
//   static constexpr bool elementwise          true: works in place on its input
//                                              (the previous layer's output, or a
//                                              copy of it where that layer needs
//                                              its output in backward; default false)
//   static constexpr Init init_before          what initialisation a parameter layer
//                                              right before it should use (default
//                                              Init::glorot; ReLU says Init::he)
//   static constexpr bool kinked               true: its derivative jumps where an
//                                              output changes sign (ReLU, LeakyReLU,
//                                              PReLU). gradient_check then watches
//                                              the signs of its outputs, since a
//                                              difference across a kink is no
//                                              derivative (default false)
//   static constexpr Index state_count         scalars of state it keeps that training
//   (or state_count_for(Shape in))             does not step (BatchNorm's running
//                                              statistics): the network lays them out
//                                              layer by layer in one state buffer, saved,
//                                              loaded and copied with the parameters,
//                                              never touched by an optimizer (default 0)
//   static constexpr Index pass_width_for(Shape in)
//                                              scalars per sample its Scratch holds
//                                              in a forward pass beyond its output
//                                              (a Residual block's inner outputs); the
//                                              network sizes its inference batches by
//                                              it (default 0)
//   static constexpr bool gives_probabilities  true: every output lies in (0, 1)
//                                              (Softmax, Sigmoid), so a loss that
//                                              takes logs (CrossEntropy,
//                                              BinaryCrossEntropy) may follow it;
//                                              after any other layer such a loss is
//                                              a compile error (default false)
//   template <class T> using bind = ...        the BOUND layer the network stores for
//                                              scalar T (default: the spec itself)
//   optional, image layers (shape.hpp; Conv2D, MaxPool2D, Flatten):
//   static constexpr Shape output_shape(Shape in)  the shape it gives for input
//                                              shape `in` (default: `outputs` as a
//                                              flat vector, or `in` when that is 0)
//   template <Index C, Index H, Index W> static constexpr bool accepts()
//                                              instantiated with the input's shape;
//                                              static_asserts through the named
//                                              checks of shape.hpp, so a failure
//                                              names both numbers. Needs Input<...>.
//   template <class T, Index C, Index H, Index W> using bind_image = ...
//                                              the bound layer for scalar T and that
//                                              input shape (instead of bind<T>)
//   static constexpr bool view                 true: the output is the input itself,
//                                              read under another shape (Flatten):
//                                              no forward, no backward, no copy
//   A layer with `inputs` != 0 and no output_shape takes a flat vector only.
//
// The BOUND layer B, for scalar T, with an optional `struct Scratch` (per-pass memory
// the network keeps in each Workspace: product buffers, a dropout mask). Let S be
// B::Scratch, or NoScratch where B declares none, and X a BatchView<T>.
//   Layers with parameters (parameter_count > 0, never elementwise):
//     void attach(T* params)           requires: params has parameter_count scalars.
//                                      ensures:  B's parameter views point there.
//     void initialize(Rng&, Init)      ensures:  parameters drawn (Init: the gain the
//                                      next layer asked for), deterministic in the Rng.
//   Layers with state (state_count > 0):
//     void attach_state(T* state)      requires: state has state_count scalars.
//                                      ensures:  B's state views point there.
//     void initialize_state()          ensures:  the state a fresh layer starts from.
//     void measure_state(const S&, T* out) const
//                                      requires: a pass of S came last.
//                                      ensures:  out (state_count scalars) describes
//                                      what it measured, in a form fold_state reads
//                                      (a pass that measured nothing says so there).
//     void fold_state(const T* measured)   ensures: one measurement folded into the
//                                      state. fit measures each chunk of a batch and
//                                      folds them in chunk order, after the batch's
//                                      gradient (mpi::fit gathers them from every
//                                      process first): the state never depends on
//                                      threads or processes.
//     optional: static std::vector<TensorLayout> tensors()   its parameters and
//                                      state as named tensors, PyTorch's names and
//                                      shapes (tensors.hpp): what lets weight files
//                                      (weights/safetensors.hpp) read and write it.
//     optional: void constrain_max_norm(T c)   FitOptions::max_norm: each unit's
//                                      incoming weights scaled to norm <= c.
//     optional: std::uint64_t branch_signature(const S&) const   a hash of the
//                                      branch each output took in the last forward
//                                      (MaxPool2D: where each maximum came from), for
//                                      gradient_check as `kinked` is for signs.
//   Every layer that is neither elementwise nor a view:
//     void forward(const X&, Matrix<T>& Y, S&, const Pass&) const
//         requires: Y is outputs x X.cols(), sized by the network.
//         ensures:  Y = f(X); S holds what backward needs.
//     void backward(const X&, const Matrix<T>& dY, Matrix<T>* dX, T* grad, S&, const Pass&) const
//         requires: the forward of the same X, S and Pass came last; dY = dL/dY.
//         ensures:  grad (parameter_count scalars) = dL/dparameters, overwritten;
//                   *dX = dL/dX when dX is not null (sized by the network).
//         Must not read Y: an elementwise layer after it may have overwritten it.
//   Optional, the row split (a layer whose output rows are computed apart, each
//   from parameters of its own, as Dense's rows of W X + b). fit's scheduler may
//   then give each thread some rows of this layer when it is layer 0
//   (BatchSplit::by_rows), and it calls only these members:
//     struct RowScratch                one per block of rows: its product buffers.
//     void forward_rows(const X&, Matrix<T>& Y, Index r0, Index r1, RowScratch&) const
//         requires: Y is outputs x X.cols().
//         ensures:  rows [r0, r1) of Y are those forward() gives; no other row written.
//     void weight_gradient_rows(const X&, const Matrix<T>& dY, T* grad, Index r0, Index r1,
//                               RowScratch&) const
//         ensures:  the gradient of the parameters rows [r0, r1) own, written into
//                   grad (laid out as the parameters); no other parameter written.
//     template <class F> static void for_each_row_parameter_range(Index r0, Index r1, F f)
//         ensures:  f(begin, end) for each run of the flat parameters that rows
//                   [r0, r1) own; the runs of all rows cover parameter_count once.
//     A row's result must not depend on how the rows are cut into blocks.
//   Elementwise layers (parameter-free, shape-preserving, in place):
//     void forward(Matrix<T>& A, S&, const Pass&) const           A <- f(A)
//     void backward(const Matrix<T>& A, Matrix<T>& dA, S&, const Pass&) const
//         requires: A is this layer's output, dA = dL/dA.  ensures: dA <- dL/d(input).
//     A stateless activation may drop the last two parameters (and be static):
//     forward(A), backward(A, dA), as Sigmoid, ReLU, Tanh, Softmax do.
//
// Every pass gets a Pass: its Mode (training or inference) and a random stream that
// depends only on where a sample sits (fit's seed, the epoch, the sample's place in
// it), never on which thread or chunk computes it. Layers keep no state between
// passes; the network owns all of it, so no mode is ever "left on".

#include "scratchnet/core.hpp"
#include "scratchnet/shape.hpp"

#include <concepts>
#include <cstdint>
#include <string>

namespace scratchnet {

/// What a pass is for: training (Dropout drops) or inference (it does not).
enum class Mode { inference, training };

/// The initialisation a layer asks of the parameter layer before it.
///   glorot: U(-r, r), r = sqrt(6 / (in + out)); keeps variance through tanh, sigmoid.
///   he:     N(0, 2 / in); the factor 2 makes up for the half a ReLU zeroes.
enum class Init { glorot, he };

/// A read-only batch: features x batch, contiguous columns.
template <class T>
using BatchView = Eigen::Map<const Matrix<T>>;

/// Per-pass memory of a layer that needs none.
struct NoScratch {};

namespace detail {
/// splitmix64's finaliser: a bijection on 64 bits that mixes every input bit into
/// every output bit. Counter-based randomness: hash(stream, sample, k) needs no
/// sequential state, so any thread can draw any sample's numbers.
constexpr std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}
}  // namespace detail

/// The context of one pass through the network.
class Pass {
public:
    /// An inference pass: no randomness is drawn.
    constexpr Pass() = default;
    /// A training pass. `stream` names the random stream (fit derives it from its
    /// seed and the epoch); `first_sample` is the place of the batch's first column
    /// in that stream (fit: its place in the epoch), so a chunk of a batch draws
    /// the same numbers as the whole batch would for the same samples.
    static constexpr Pass training(std::uint64_t stream, Index first_sample = 0) {
        Pass p;
        p.mode_ = Mode::training;
        p.stream_ = stream;
        p.first_sample_ = first_sample;
        return p;
    }

    constexpr Mode mode() const { return mode_; }
    constexpr bool training() const { return mode_ == Mode::training; }
    constexpr std::uint64_t stream() const { return stream_; }
    constexpr Index first_sample() const { return first_sample_; }

    /// The same pass with its columns shifted: column 0 of the result is column
    /// `offset` of this one (for a chunk that starts there).
    constexpr Pass shifted(Index offset) const {
        Pass p = *this;
        p.first_sample_ += offset;
        return p;
    }
    /// The pass as layer `index` sees it: two layers never share random numbers.
    constexpr Pass for_layer(std::size_t index) const {
        Pass p = *this;
        p.stream_ = detail::mix64(stream_ ^ (0x9E3779B97F4A7C15ULL * (index + 1)));
        return p;
    }

    /// A key for column `column` of the batch: random_bits(key, k) then gives draw k
    /// of that sample. Split in two so a layer hashes the sample once per column.
    constexpr std::uint64_t column_key(Index column) const {
        return detail::mix64(stream_ + 0xD1B54A32D192ED03ULL * static_cast<std::uint64_t>(first_sample_ + column));
    }
    /// 64 random bits: draw k of the sample whose key is `key`.
    static constexpr std::uint64_t random_bits(std::uint64_t key, std::uint64_t k) {
        return detail::mix64(key ^ (0x9E3779B97F4A7C15ULL * (k + 1)));
    }

private:
    Mode mode_ = Mode::inference;
    std::uint64_t stream_ = 0;
    Index first_sample_ = 0;
};

/// A layer spec, as written in Network<...> (see the contract at the top).
template <class L>
concept Layer = requires(Shape in) {
    { L::inputs } -> std::convertible_to<Index>;
    { L::outputs } -> std::convertible_to<Index>;
    { L::name() } -> std::convertible_to<std::string>;
} && (requires { { L::parameter_count } -> std::convertible_to<Index>; } ||
      requires(Shape in) { { L::parameter_count_for(in) } -> std::convertible_to<Index>; });

/// Bound layer B offers the row split (see the contract at the top).
template <class B, class T>
concept RowSplitLayer = requires(const B& b, const BatchView<T>& X, Matrix<T>& Y, const Matrix<T>& dY, T* grad,
                                 Index r, typename B::RowScratch& s) {
    b.forward_rows(X, Y, r, r, s);
    b.weight_gradient_rows(X, dY, grad, r, r, s);
    B::for_each_row_parameter_range(r, r, [](Index, Index) {});
};

namespace detail {

template <class L>
constexpr bool is_elementwise() {
    if constexpr (requires { { L::elementwise } -> std::convertible_to<bool>; })
        return L::elementwise;
    else
        return false;
}

template <class L>
constexpr Init init_before() {
    if constexpr (requires { { L::init_before } -> std::convertible_to<Init>; })
        return L::init_before;
    else
        return Init::glorot;
}

template <class L>
constexpr bool is_kinked() {
    if constexpr (requires { { L::kinked } -> std::convertible_to<bool>; })
        return L::kinked;
    else
        return false;
}

template <class L>
constexpr bool gives_probabilities() {
    if constexpr (requires { { L::gives_probabilities } -> std::convertible_to<bool>; })
        return L::gives_probabilities;
    else
        return false;
}

/// Parameters spec L owns at input shape `in`.
template <class L>
constexpr Index parameters_of(Shape in) {
    if constexpr (requires { { L::parameter_count_for(in) } -> std::convertible_to<Index>; })
        return L::parameter_count_for(in);
    else
        return L::parameter_count;
}

/// Scalars of state spec L keeps at input shape `in`.
template <class L>
constexpr Index state_of(Shape in) {
    if constexpr (requires { { L::state_count_for(in) } -> std::convertible_to<Index>; })
        return L::state_count_for(in);
    else if constexpr (requires { { L::state_count } -> std::convertible_to<Index>; })
        return L::state_count;
    else
        return 0;
}

/// Scalars per sample spec L's Scratch holds in a forward pass at input shape `in`.
template <class L>
constexpr Index pass_width_of([[maybe_unused]] Shape in) {
    if constexpr (requires { { L::pass_width_for(in) } -> std::convertible_to<Index>; })
        return L::pass_width_for(in);
    else
        return 0;
}

/// Folds the signs of A's entries (> 0 or not) into hash h, 64 at a time: two
/// passes that agree on it took the same side of a kinked layer's kinks.
template <class T>
std::uint64_t fold_signs(std::uint64_t h, const Matrix<T>& A) {
    std::uint64_t word = 0;
    for (Index i = 0; i < A.size(); ++i) {
        word = (word << 1) | (A.data()[i] > T(0) ? 1U : 0U);
        if (i % 64 == 63 || i + 1 == A.size()) {
            h = mix64(h ^ word);
            word = 0;
        }
    }
    return h;
}

template <class L>
constexpr bool is_view() {
    if constexpr (requires { { L::view } -> std::convertible_to<bool>; })
        return L::view;
    else
        return false;
}

template <class L>
concept ImageLayer = requires(Shape s) {
    { L::output_shape(s) } -> std::convertible_to<Shape>;
};

/// The shape layer L gives for input shape `in` (see output_shape in the contract).
template <class L>
constexpr Shape shape_after(Shape in) {
    if constexpr (ImageLayer<L>)
        return L::output_shape(in);
    else if constexpr (L::outputs != 0)
        return Shape{L::outputs, 1, 1};
    else
        return in;
}

template <class L, class T>
struct bound {
    using type = L;
};
template <class L, class T>
    requires requires { typename L::template bind<T>; }
struct bound<L, T> {
    using type = typename L::template bind<T>;
};
/// The concrete type a network of scalar T stores for spec L.
template <class L, class T>
using bound_t = typename bound<L, T>::type;

/// The same for spec L at input shape C x H x W (bind_image where L has it).
template <class L, class T, Index C, Index H, Index W>
struct bound_at {
    using type = bound_t<L, T>;
};
template <class L, class T, Index C, Index H, Index W>
    requires requires { typename L::template bind_image<T, C, H, W>; }
struct bound_at<L, T, C, H, W> {
    using type = typename L::template bind_image<T, C, H, W>;
};

template <class B>
struct scratch {
    using type = NoScratch;
};
template <class B>
    requires requires { typename B::Scratch; }
struct scratch<B> {
    using type = typename B::Scratch;
};
/// Per-pass scratch memory of bound layer B.
template <class B>
using scratch_t = typename scratch<B>::type;

template <class B, class T>
concept StatelessElementwise = requires(const B& b, Matrix<T>& A, const Matrix<T>& cA) {
    b.forward(A);
    b.backward(cA, A);
};

template <class B, class T>
concept FullElementwise = requires(const B& b, Matrix<T>& A, const Matrix<T>& cA, scratch_t<B>& s, const Pass& p) {
    b.forward(A, s, p);
    b.backward(cA, A, s, p);
};

template <class B, class T>
concept HasForward = requires(const B& b, const BatchView<T>& X, Matrix<T>& Y, scratch_t<B>& s, const Pass& p) {
    b.forward(X, Y, s, p);
};
template <class B, class T>
concept HasBackward = requires(const B& b, const BatchView<T>& X, const Matrix<T>& dY, Matrix<T>* dX, T* grad,
                               scratch_t<B>& s, const Pass& p) {
    b.backward(X, dY, dX, grad, s, p);
};
template <class B, class T>
concept HasAttach = requires(B& b, T* params) { b.attach(params); };
template <class B>
concept HasInitialize = requires(B& b, Rng& rng, Init init) { b.initialize(rng, init); };
template <class B, class T>
concept HasState = requires(B& b, const B& cb, T* state, const T* measured, const scratch_t<B>& s) {
    b.attach_state(state);
    b.initialize_state();
    cb.measure_state(s, state);
    b.fold_state(measured);
};

/// Checks spec L and its bound layer B for T part by part, so that a type missing a
/// part fails with a message naming that part (a concept alone says only "false").
/// First the spec's own members, before anything reads them.
template <class L>
constexpr bool check_spec() {
    static_assert(requires { { L::inputs } -> std::convertible_to<Index>; } &&
                      requires { { L::outputs } -> std::convertible_to<Index>; },
                  "scratchnet::Network: every template argument but the last must be a layer: the layer contract "
                  "(scratchnet/layer.hpp) needs `static constexpr Index inputs` and `outputs` "
                  "(0: the previous layer's size)");
    static_assert(requires { { L::parameter_count } -> std::convertible_to<Index>; } ||
                      requires(Shape in) { { L::parameter_count_for(in) } -> std::convertible_to<Index>; },
                  "scratchnet::Network: every template argument but the last must be a layer: the layer contract "
                  "needs `static constexpr Index parameter_count` (or parameter_count_for(Shape))");
    static_assert(requires { { L::name() } -> std::convertible_to<std::string>; },
                  "scratchnet::Network: every template argument but the last must be a layer: the layer contract "
                  "needs `static std::string name()`");
    return Layer<L>;
}

/// Params and State: what the layer owns at the shape it meets in the network.
template <class L, class B, class T, Index Params, Index State>
constexpr bool check_layer() {
    if constexpr (Layer<L>) {
        if constexpr (State > 0) {
            static_assert(HasState<B, T>,
                          "scratchnet::Network: a layer with state (state_count > 0) needs attach_state(T*), "
                          "initialize_state(), measure_state(const Scratch&, T*) const and fold_state(const T*)");
        }
        if constexpr (is_view<L>()) {
            static_assert(Params == 0 && !is_elementwise<L>(),
                          "scratchnet::Network: a view layer (view = true) only reinterprets its input: it can own "
                          "no parameters and is not elementwise");
        } else if constexpr (is_elementwise<L>()) {
            static_assert(Params == 0,
                          "scratchnet::Network: an elementwise layer (working in place) cannot own parameters: "
                          "its backward sees only its output; declare it with elementwise = false");
            static_assert(StatelessElementwise<B, T> || FullElementwise<B, T>,
                          "scratchnet::Network: an elementwise layer needs forward(Matrix<T>& A, Scratch&, const "
                          "Pass&) and backward(const Matrix<T>& A, Matrix<T>& dA, Scratch&, const Pass&), or the "
                          "stateless forward(A) and backward(A, dA)");
        } else {
            static_assert(HasForward<B, T>,
                          "scratchnet::Network: the layer contract needs forward(const BatchView<T>& X, Matrix<T>& "
                          "Y, Scratch&, const Pass&) const (Scratch: the layer's, or NoScratch)");
            static_assert(HasBackward<B, T>,
                          "scratchnet::Network: the layer contract needs backward(const BatchView<T>& X, const "
                          "Matrix<T>& dY, Matrix<T>* dX, T* grad, Scratch&, const Pass&) const");
            if constexpr (Params > 0) {
                static_assert(HasAttach<B, T>,
                              "scratchnet::Network: a layer with parameters needs attach(T* params): the network "
                              "owns the flat buffer and the layer keeps views into it");
                static_assert(HasInitialize<B>,
                              "scratchnet::Network: a layer with parameters needs initialize(Rng&, Init)");
            }
        }
    }
    return true;
}

}  // namespace detail
}  // namespace scratchnet
