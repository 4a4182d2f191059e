#pragma once
// BasicNetwork<T, Layers..., Loss>: a feedforward network whose architecture is its
// type. Network<...> is the float alias.
//
// Ownership (after dlib): the network owns the flat parameter and gradient buffers
// and the workspaces; layers hold views into the parameters and compute; activations
// are stateless. A Workspace holds every intermediate of one forward/backward pass,
// so const members that take an explicit Workspace can run concurrently.
//
// Over 400 lines, and one class: the user's API and the walk of the layers share
// the network's private layout (buffers, workspaces, the plan), so they stay
// together. What can live apart does: the sorting of Parts... and the contract
// checks (detail/layer_pack.hpp), the compile-time plan (detail/plan.hpp).

#include "scratchnet/core.hpp"
#include "scratchnet/detail/inference_blocks.hpp"
#include "scratchnet/detail/layer_pack.hpp"
#include "scratchnet/detail/plan.hpp"
#include "scratchnet/kernels/convert.hpp"
// Dense and the activations only so that this header alone still builds the
// course network, as it always has; the network itself depends on no layer type.
#include "scratchnet/layers/activations.hpp"
#include "scratchnet/layers/dense.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/losses.hpp"
#include "scratchnet/shape.hpp"
#include "scratchnet/task.hpp"
#include "scratchnet/tensors.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace scratchnet {

namespace detail {
/// An Eigen matrix or expression of bytes (inputs that inference scales as fit does).
template <class D>
concept ByteData = std::derived_from<D, Eigen::MatrixBase<D>> && std::same_as<typename D::Scalar, std::uint8_t>;

/// A ByteMatrix as it is, any other byte expression evaluated into one.
template <ByteData D>
decltype(auto) as_byte_matrix(const D& X) {
    if constexpr (std::is_same_v<D, ByteMatrix>)
        return (X);
    else
        return ByteMatrix(X);
}

/// A bound layer that applies FitOptions::max_norm (layer contract: constrain_max_norm).
template <class L, class T>
concept MaxNormConstrained = requires(L& layer, T c) { layer.constrain_max_norm(c); };

/// A number no other network object has had: optimizers tell networks apart by it.
inline std::uint64_t next_network_id() {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
}
}  // namespace detail

template <class T, class... Parts>
class BasicNetwork {
    static_assert(Scalar<T>, "scratchnet::BasicNetwork<T, ...>: T must be float or double");
    static_assert(sizeof...(Parts) >= 2 && detail::layer_count<Parts...> >= 1,
                  "scratchnet::Network: needs at least one layer and a loss, "
                  "e.g. Network<Dense<2, 1>, Sigmoid, BinaryCrossEntropy>");

    static_assert(detail::specs_are_layers<Parts...>(std::make_index_sequence<sizeof...(Parts) - 1>{}));
    using Pack = decltype(detail::split_layers<T, Parts...>(std::make_index_sequence<detail::layer_count<Parts...>>{}));
    using Plan = typename Pack::plan;
    static_assert(detail::check_layers<typename Pack::layers, typename Pack::specs, T, Plan>(
        std::make_index_sequence<Plan::depth>{}));

public:
    using Scalar = T;
    using LossType = detail::nth_t<sizeof...(Parts) - 1, Parts...>;
    /// The same architecture over another scalar type (gradient_check uses double).
    template <class U>
    using rebind = BasicNetwork<U, Parts...>;
    /// A read-only batch view: inputs x batch, contiguous columns.
    using Batch = BatchView<T>;

    static constexpr std::size_t depth = Plan::depth;
    static constexpr Index input_size = Plan::input_size;
    static constexpr Index output_size = Plan::output_size;
    static constexpr Index parameter_count = Plan::parameter_count;
    /// Scalars of state the layers keep that training does not step (BatchNorm's
    /// running statistics), in one buffer beside the parameters.
    static constexpr Index state_count = Plan::state_count;

private:
    static_assert(detail::check_is_loss<LossType>());
    static_assert(input_size > 0, "scratchnet::Network: needs at least one layer with a size, such as Dense<In, Out>");
    static_assert(Plan::shapes_agree(std::make_index_sequence<depth>{}));

    template <std::size_t I>
    using spec_t = std::tuple_element_t<I, typename Pack::specs>;
    template <std::size_t I>
    using layer_t = std::tuple_element_t<I, typename Pack::layers>;
    static constexpr bool fused = FusedGradient<spec_t<depth - 1>, LossType>::value;
    static_assert(detail::check_loss_input<spec_t<depth - 1>, LossType>());
    static_assert(detail::check_task<LossType, output_size>());

public:
    /// What the outputs mean, as the loss declares it (task.hpp): classification
    /// (argmax), binary (one output, p >= 0.5 is class 1), multilabel (each output
    /// its own yes/no) or regression (no classes, no accuracy).
    static constexpr Task task = task_of<spec_t<depth - 1>, LossType, output_size>();
    /// Classes that Labels may name: outputs, 2 for binary, 0 for multilabel and regression.
    static constexpr Index class_count = scratchnet::class_count(task, output_size);
    /// What predict() returns: a class per sample (Labels), or for a multi-label
    /// network a 0/1 matrix (outputs x samples).
    using Prediction = std::conditional_t<task == Task::multilabel, Eigen::MatrixXi, Labels>;

    /// Every intermediate of one pass. Sized on first use per batch size; reusing
    /// one workspace at a fixed batch size allocates nothing.
    struct Workspace {
        std::array<Matrix<T>, Plan::buffer_count> out;
        std::array<Matrix<T>, Plan::buffer_count> delta;
        typename Pack::scratch scratch;  // per-layer product buffers
        const T* input = nullptr;  // the batch of the last forward, for backward
        Index batch = 0;
        /// What forward() and backward() in this workspace are for: inference by
        /// default; fit() sets a training pass for each chunk it computes.
        Pass pass;
        /// When set, forward() records in nonfinite_layer the first layer whose
        /// output holds a NaN or an infinity (-1: none). One read of each output.
        bool check_finite = false;
        int nonfinite_layer = -1;
        /// When set, forward() folds the signs of every kinked layer's outputs
        /// (layer.hpp) into kink_signature: two passes that agree on it took the
        /// same side of every kink. For gradient_check.
        bool record_kinks = false;
        std::uint64_t kink_signature = 0;
    };

    /// Builds the network and draws its weights from `seed`: same seed, same weights.
    explicit BasicNetwork(std::uint64_t seed) : BasicNetwork() {
        Rng rng(seed);
        initialize(rng);
    }
    /// Draws the weights from a caller's generator.
    explicit BasicNetwork(Rng& rng) : BasicNetwork() { initialize(rng); }

    BasicNetwork(const BasicNetwork& other)
        : params_(other.params_), grads_(other.grads_), state_(other.state_), layers_(other.layers_),
          training_passes_(other.training_passes_), id_(detail::next_network_id()) {
        attach();
    }
    BasicNetwork& operator=(const BasicNetwork& other) {
        params_ = other.params_;
        grads_ = other.grads_;
        state_ = other.state_;
        training_passes_ = other.training_passes_;
        attach();
        ws_.input = nullptr;  // the old forward pass belongs to the old parameters
        return *this;
    }
    ~BasicNetwork() = default;

    /// Redraws all parameters, each layer as the layer right after it asks
    /// (Init::he when that is ReLU or LeakyReLU, Init::glorot otherwise), and puts
    /// the state back to a fresh layer's.
    void initialize(Rng& rng) {
        initialize_state();
        for_each_layer([&]<std::size_t I>(auto& layer) {
            if constexpr (Plan::parameter_counts[I] > 0) {
                if constexpr (I + 1 < depth)
                    layer.initialize(rng, detail::init_before<spec_t<I + 1>>());
                else
                    layer.initialize(rng, Init::glorot);
            }
        });
        grads_.setZero();
    }

    // -- the course's interface --------------------------------------------------

    /// Output for a batch X (input_size x B). The network keeps a copy of X for
    /// backward() (one copy of the batch; no allocation after the first call at a
    /// batch size), so X may be a temporary.
    /// Inference by default; Mode::training makes Dropout drop, with a fresh random
    /// stream on each call (counted by this network: the same calls on two networks
    /// built alike give the same masks).
    const Matrix<T>& forward(const Matrix<T>& X, Mode mode = Mode::inference) {
        ws_.pass = mode == Mode::training ? Pass::training(detail::mix64(++training_passes_)) : Pass{};
        check_inputs(Batch(X.data(), X.rows(), X.cols()), "forward");
        input_ = X;
        const Matrix<T>& out = forward(Batch(input_.data(), input_.rows(), input_.cols()), ws_);
        if constexpr (state_count > 0) {
            if (mode == Mode::training) {  // as a training pass does in fit
                measure_state(ws_, measured_.data());
                fold_state(measured_.data());
            }
        }
        return out;
    }

    /// Mean loss over the batch; also leaves the forward pass ready for backward(Y).
    /// The mode as for forward(); train_step() uses Mode::training.
    T loss(const Matrix<T>& X, const Matrix<T>& Y, Mode mode = Mode::inference) {
        const Matrix<T>& P = forward(X, mode);
        check_targets(Y.rows(), Y.cols(), ws_, "loss");
        return LossType::sum(P, Y) / static_cast<T>(X.cols());
    }

    /// Gradient of the mean loss for the last forward() into gradients(), in that
    /// forward's mode (with its dropout masks).
    void backward(const Matrix<T>& Y) {
        if (ws_.input == nullptr)
            throw std::logic_error("scratchnet::Network::backward: call forward(X) first");
        backward(Batch(ws_.input, input_size, ws_.batch), Batch(Y.data(), Y.rows(), Y.cols()), ws_,
                 grads_.data(), T(1) / static_cast<T>(ws_.batch));
    }

    /// Predicted class of each column, in inference mode: the argmax of the outputs,
    /// or for a one-output binary network 1 where p >= 0.5. A multi-label network
    /// gives a 0/1 matrix (outputs x samples: 1 where p >= 0.5). A regression
    /// network has no classes: use outputs(). Blocks of inference_batch_size
    /// samples run on `threads` threads (0: one per processor, as fit()), with the
    /// bits of one thread. Thread-safe. Bytes (ByteMatrix) are scaled by 1/255 as
    /// fit() scales them; a sample with a NaN or infinite input is an
    /// std::invalid_argument naming it, as in fit().
    Prediction predict(const Matrix<T>& X, unsigned threads = 0) const { return predict_of(X, threads); }
    template <detail::ByteData Bytes>  // a template: any other expression converts to Matrix<T>
    Prediction predict(const Bytes& X, unsigned threads = 0) const {
        return predict_of(detail::as_byte_matrix(X), threads);
    }

    /// The network's outputs for X (output_size x B) in inference mode: class
    /// probabilities for a classifier, p(class 1) for a binary network, the
    /// predicted values for a regression network. Threads, bytes and checks as
    /// predict(). Thread-safe.
    Matrix<T> outputs(const Matrix<T>& X, unsigned threads = 0) const { return outputs_of(X, threads); }
    template <detail::ByteData Bytes>
    Matrix<T> outputs(const Bytes& X, unsigned threads = 0) const {
        return outputs_of(detail::as_byte_matrix(X), threads);
    }

    /// outputs() of a classifier, under the name scikit-learn and Keras users look for.
    Matrix<T> predict_proba(const Matrix<T>& X, unsigned threads = 0) const { return probabilities(X, threads); }
    template <detail::ByteData Bytes>
    Matrix<T> predict_proba(const Bytes& X, unsigned threads = 0) const {
        return probabilities(detail::as_byte_matrix(X), threads);
    }

    /// Tells network objects apart (optimizers keep state for one network): a
    /// copy gets a new id; assignment keeps the target's.
    std::uint64_t id() const { return id_; }

    /// All parameters, layer by layer (W column-major, then b): writable.
    Eigen::Map<Vector<T>> parameters() { return {params_.data(), params_.size()}; }
    Eigen::Map<const Vector<T>> parameters() const { return {params_.data(), params_.size()}; }
    /// Copies v into the parameters; throws std::invalid_argument unless v holds
    /// exactly parameter_count values (parameters() is a fixed-size view: assigning
    /// a vector of another size to it is not checked in Release builds).
    template <class D>
    void set_parameters(const Eigen::MatrixBase<D>& v) {
        if (v.size() != parameter_count)
            throw std::invalid_argument("scratchnet::Network::set_parameters: got " + std::to_string(v.size()) +
                                        " values but the network has " + std::to_string(parameter_count) +
                                        " parameters");
        params_ = v.template cast<T>();
    }
    /// The layers' state (state_count scalars, layer by layer): saved, loaded and
    /// copied with the parameters, never stepped by an optimizer.
    Eigen::Map<Vector<T>> state() { return {state_.data(), state_.size()}; }
    Eigen::Map<const Vector<T>> state() const { return {state_.data(), state_.size()}; }
    /// Puts every layer's state back to a fresh layer's (BatchNorm: mean 0, variance 1).
    void initialize_state() {
        for_each_layer([&]<std::size_t I>(auto& layer) {
            if constexpr (Plan::state_counts[I] > 0) layer.initialize_state();
        });
    }
    /// What the last pass in ws measured for the state (state_count scalars into
    /// out, layer.hpp's measure_state); fold_state() folds one such measurement in.
    /// fit measures each chunk of a batch and folds them in chunk order.
    void measure_state(const Workspace& ws, T* out) const {
        [&]<std::size_t... Is>(std::index_sequence<Is...>) {
            (measure_layer_state<Is>(ws, out), ...);
        }(std::make_index_sequence<depth>{});
    }
    void fold_state(const T* measured) {
        for_each_layer([&]<std::size_t I>(auto& layer) {
            if constexpr (Plan::state_counts[I] > 0) layer.fold_state(measured + Plan::state_offset[I]);
        });
    }

    /// Gradients of the last backward(), same layout as parameters().
    Eigen::Map<Vector<T>> gradients() { return {grads_.data(), grads_.size()}; }
    Eigen::Map<const Vector<T>> gradients() const { return {grads_.data(), grads_.size()}; }

    /// The I-th layer: Dense<In, Out, T> (weights(), bias()) or an activation.
    template <std::size_t I>
    auto& layer() { return std::get<I>(layers_); }
    template <std::size_t I>
    const auto& layer() const { return std::get<I>(layers_); }

    /// Index of the layer that owns parameter p of the flat buffer.
    static std::size_t layer_of_parameter(Index p) {
        std::size_t owner = 0;
        for (std::size_t i = 0; i < depth; ++i)
            if (Plan::parameter_counts[i] > 0 && Plan::parameter_offset[i] <= p) owner = i;
        return owner;
    }

    /// The network's named tensors (tensors.hpp): each layer's module named by its
    /// position, as the state_dict of the equivalent nn.Sequential names them
    /// ("0.weight", "0.bias", "2.weight", ...). Declared where every layer with
    /// parameters or state declares its tensors.
    static std::vector<TensorLayout> tensors()
        requires(detail::tensors_known<typename Pack::layers, Plan>())
    {
        return detail::pack_tensors<typename Pack::layers, Plan>();
    }

    /// Name of layer i, e.g. "Dense<784,128>" or "ReLU" (Input<...> is no layer).
    static std::string layer_name(std::size_t i) {
        if (i >= depth) return "?";
        return [&]<std::size_t... Is>(std::index_sequence<Is...>) {
            std::string names[] = {std::string(spec_t<Is>::name())...};
            return names[i];
        }(std::make_index_sequence<depth>{});
    }

    /// Samples per forward pass where the library runs a large data set through in
    /// inference (predict, outputs, evaluate, accuracy, confusion_matrix): as many
    /// as keep one pass within 2^19 scalars (2 MB of floats, about a core's L2
    /// cache, where a pass runs fastest), up to 1024; at least 16 where a sample's
    /// pass is wider than that allows, as long as the pass stays within 2^22
    /// scalars (16 MB), however deep the network; never fewer than 1.
    static constexpr Index inference_batch_size = [] {
        const Index width = std::max<Index>(Plan::pass_width, 1);
        const Index in_cache = (Index{1} << 19) / width, bounded = (Index{1} << 22) / width;
        return std::clamp<Index>(in_cache >= 16 ? in_cache : std::min<Index>(16, bounded), 1, 1024);
    }();

    /// The shape of layer i's output (a flat vector of n features is n x 1 x 1).
    static constexpr Shape output_shape(std::size_t i) { return Plan::shape_out[i]; }
    /// The shape of one input sample: Input<C, H, W>'s, or input_size x 1 x 1.
    static constexpr Shape input_shape = Plan::input_shape;

    /// Names the type: "Dense<784,128>,ReLU,Dense<128,10>,Softmax,CrossEntropy".
    /// A network that starts with Input<C, H, W> also gives each layer's output
    /// shape: "Input<1,28,28>,Conv2D<1,6,5,1,2>:6x28x28,ReLU:6x28x28,...".
    static std::string architecture() {
        std::string s;
        if constexpr (Plan::has_input) s = Pack::input::name() + ",";
        for (std::size_t i = 0; i < depth; ++i) {
            s += layer_name(i);
            if constexpr (Plan::has_input) {
                // Two appends, not s += ":" + to_string(...): g++ 12 at -O3 reports
                // that operator+'s insert into the temporary may overlap (-Wrestrict),
                // a false positive of its string code (GCC bug 105329).
                s += ':';
                s += to_string(Plan::shape_out[i]);
            }
            s += ",";
        }
        return s + LossType::name();
    }

    /// One line per layer (its name, output shape and parameters), then the loss
    /// and the totals, as Keras' model.summary() lists a model.
    static std::string summary() {
        std::vector<std::array<std::string, 3>> rows;
        if constexpr (Plan::has_input) rows.push_back({Pack::input::name(), to_string(input_shape), "0"});
        for (std::size_t i = 0; i < depth; ++i)
            rows.push_back({layer_name(i), to_string(Plan::shape_out[i]), std::to_string(Plan::parameter_counts[i])});
        std::size_t width = 5;
        for (const auto& r : rows) width = std::max(width, r[0].size());
        // Appends only: g++ 12 reports operator+ on temporaries as overlapping (-Wrestrict, GCC bug 105329).
        std::string s;
        const auto line = [&](const std::string& a, const std::string& b, const std::string& c) {
            s.append(a).append(width + 2 - a.size(), ' ').append(b);
            s.append(b.size() < 14 ? 14 - b.size() : 1, ' ').append(c.size() < 10 ? 10 - c.size() : 0, ' ');
            s.append(c).append("\n");
        };
        line("Layer", "Output shape", "Parameters");
        for (const auto& r : rows) line(r[0], r[1], r[2]);
        s.append("Loss: ").append(LossType::name()).append("\nParameters: ").append(std::to_string(parameter_count));
        s.append(" trained");
        if constexpr (state_count > 0)
            s.append(", ").append(std::to_string(state_count)).append(" of state not trained (such as BatchNorm's statistics)");
        return s.append("\n");
    }

    /// Whether some layer applies FitOptions::max_norm (offers constrain_max_norm).
    static constexpr bool has_max_norm_constraint = []<class... L>(std::type_identity<std::tuple<L...>>) {
        return (detail::MaxNormConstrained<L, T> || ...);
    }(std::type_identity<typename Pack::layers>{});

    /// Applies the max-norm constraint to every layer that offers one
    /// (constrain_max_norm(T c) in the layer contract: Dense's rows of W).
    void constrain_max_norm(T c) {
        for_each_layer([&]<std::size_t I>(auto& layer) {
            if constexpr (requires { layer.constrain_max_norm(c); }) layer.constrain_max_norm(c);
        });
    }

    // -- explicit-workspace interface (const: concurrent calls with separate workspaces) --

    /// Forward pass of X into ws; returns the output (output_size x B), valid until
    /// ws is used again. Remembers X for backward(), which X must outlive.
    const Matrix<T>& forward(const Batch& X, Workspace& ws) const {
        check_inputs(X, "forward");
        ws.input = X.data();
        ws.batch = X.cols();
        ws.nonfinite_layer = -1;
        ws.kink_signature = 0;
        [&]<std::size_t... Is>(std::index_sequence<Is...>) {
            (forward_layer<Is>(ws), ...);
        }(std::make_index_sequence<depth>{});
        return ws.out[Plan::buffer[depth - 1]];
    }

    /// Loss summed over the columns of the last forward in ws (divide by B for the mean).
    T loss_sum(const Batch& Y, const Workspace& ws) const {
        check_targets(Y.rows(), Y.cols(), ws, "loss_sum");
        return LossType::sum(ws.out[Plan::buffer[depth - 1]], Y);
    }

    /// Back-propagates the last forward in ws against targets Y and writes
    /// scale * d(loss sum)/d(parameters) into grad (parameter_count scalars).
    /// With scale = 1/B that is the gradient of the mean; chunks of one batch use
    /// 1/B of the whole batch and their gradients add up.
    void backward(const Batch& X, const Batch& Y, Workspace& ws, T* grad, T scale) const {
        if (X.data() != ws.input || X.cols() != ws.batch || X.rows() != input_size)
            throw std::invalid_argument(
                "scratchnet::Network::backward: X is not the batch of the last forward() in this workspace");
        loss_gradient(Y, ws, scale);
        [&]<std::size_t... Is>(std::index_sequence<Is...>) {
            (backward_layer<depth - 1 - Is>(ws, grad), ...);
        }(std::make_index_sequence<depth>{});
    }

    // -- the scheduler's seam: for detail::BatchGradient, which can compute layer 0
    //    itself, split by its output rows across threads, where layer 0 offers the
    //    row split of the layer contract (layer.hpp). --

    /// Layer 0's outputs, and its parameter count.
    static constexpr Index first_width = Plan::width_out[0];
    static constexpr Index first_parameter_count = Plan::parameter_counts[0];

    /// Where a pass keeps layer 0's output, and dL/d(that output) after backward.
    static Matrix<T>& first_output(Workspace& ws) { return ws.out[Plan::buffer[0]]; }
    static const Matrix<T>& first_output_gradient(const Workspace& ws) { return ws.delta[Plan::buffer[0]]; }

    /// forward() from layer 1 on, with layer 0's output for `batch` columns already
    /// in first_output(ws) (checked for NaN there, as forward() does).
    const Matrix<T>& forward_from_second(Workspace& ws, Index batch) const {
        const Matrix<T>& Z = first_output(ws);
        ws.batch = batch;
        ws.nonfinite_layer = -1;
        note_nonfinite<0>(Z, ws);
        [&]<std::size_t... Is>(std::index_sequence<Is...>) {
            (forward_layer<Is + 1>(ws), ...);
        }(std::make_index_sequence<depth - 1>{});
        ws.input = Z.data();  // marks the pass as done for loss_sum(); layers 1.. never read it
        return ws.out[Plan::buffer[depth - 1]];
    }

    /// backward() down to, not into, layer 0: layer 0's part of grad is left alone,
    /// and dL/dZ of layer 0 is left in first_output_gradient(ws).
    void backward_to_second(const Batch& Y, Workspace& ws, T* grad, T scale) const {
        loss_gradient(Y, ws, scale);
        [&]<std::size_t... Is>(std::index_sequence<Is...>) {
            (backward_layer<depth - 1 - Is>(ws, grad), ...);
        }(std::make_index_sequence<depth - 1>{});
    }

    /// predict() without allocation once `ws` and `out` have the batch's size.
    void predict(const Batch& X, Workspace& ws, Prediction& out) const {
        static_assert(task != Task::regression,
                      "scratchnet::Network::predict: a regression network (see Task) has no classes to predict: "
                      "call outputs(X) for its values");
        const Matrix<T>& P = forward(X, ws);
        if constexpr (task == Task::multilabel) {
            out = (P.array() >= T(0.5)).template cast<int>().matrix();
        } else {
            out.resize(P.cols());
            for (Index j = 0; j < P.cols(); ++j) out[j] = static_cast<int>(detail::predicted_class<task>(P, j));
        }
    }

private:
    /// One thread's buffers for predict() and outputs().
    struct InferenceLane {
        Workspace ws;
        Prediction part;
        Matrix<T> scaled;  // a block of bytes as scalars
    };

    template <class Inputs>
    Prediction predict_of(const Inputs& X, unsigned threads) const {
        check_inference_inputs(X, "predict");
        Prediction out;
        if constexpr (task == Task::multilabel)
            out.resize(output_size, X.cols());
        else
            out.resize(X.cols());
        std::vector<InferenceLane> lanes;
        for_each_inference_block(
            X.cols(), threads, [&](unsigned k) { lanes.resize(k); },
            [&](Index begin, Index n, unsigned lane) {
                InferenceLane& l = lanes[lane];
                predict(block_of(X, begin, n, l.scaled), l.ws, l.part);
                if constexpr (task == Task::multilabel)
                    out.middleCols(begin, n) = l.part;
                else
                    out.segment(begin, n) = l.part;
            });
        return out;
    }

    template <class Inputs>
    Matrix<T> probabilities(const Inputs& X, unsigned threads) const {
        static_assert(task != Task::regression,
                      "scratchnet::Network::predict_proba: a regression network gives values, not probabilities: "
                      "call outputs(X)");
        return outputs(X, threads);
    }

    template <class Inputs>
    Matrix<T> outputs_of(const Inputs& X, unsigned threads) const {
        check_inference_inputs(X, "outputs");
        Matrix<T> out(output_size, X.cols());
        std::vector<InferenceLane> lanes;
        for_each_inference_block(
            X.cols(), threads, [&](unsigned k) { lanes.resize(k); },
            [&](Index begin, Index n, unsigned lane) {
                InferenceLane& l = lanes[lane];
                out.middleCols(begin, n) = forward(block_of(X, begin, n, l.scaled), l.ws);
            });
        return out;
    }

    /// Columns [begin, begin + n) of X as a batch: in place, or bytes scaled into
    /// `scaled` with fit()'s scale and conversion (the same bits as training sees).
    template <class Inputs>
    static Batch block_of(const Inputs& X, Index begin, Index n, Matrix<T>& scaled) {
        if constexpr (std::is_same_v<typename Inputs::Scalar, std::uint8_t>) {
            scaled.resize(X.rows(), n);
            detail::bytes_to_scalars(X.data() + begin * X.rows(), X.rows() * n, T(1) / T(255), scaled.data());
            return Batch(scaled.data(), X.rows(), n);
        } else {
            return Batch(X.data() + begin * X.rows(), X.rows(), n);
        }
    }

    /// Inference inputs must have the network's rows and, as in fit(), finite values.
    template <class Inputs>
    static void check_inference_inputs(const Inputs& X, const char* who) {
        if (X.rows() != input_size)
            throw std::invalid_argument("scratchnet::Network::" + std::string(who) + ": X has " +
                                        std::to_string(X.rows()) + " rows but the network takes " +
                                        std::to_string(input_size) + " inputs (one sample per column)");
        if constexpr (!std::is_same_v<typename Inputs::Scalar, std::uint8_t>)
            for (Index j = 0; j < X.cols(); ++j)
                if (!X.col(j).allFinite())
                    throw std::invalid_argument("scratchnet::Network::" + std::string(who) + ": the inputs of sample " +
                                                std::to_string(j) + " hold NaN or infinity; clean the data");
    }

    /// f(begin, n, lane) for the blocks of inference_batch_size columns of `cols`
    /// (in blocks, so that a convolutional network's buffers stay small), spread
    /// over threads; lanes(k) first sizes k threads' buffers.
    template <class Lanes, class F>
    static void for_each_inference_block(Index cols, unsigned threads, Lanes&& lanes, F&& f) {
        const auto blocks = static_cast<std::size_t>((cols + inference_batch_size - 1) / inference_batch_size);
        detail::run_blocks(blocks, threads, lanes, [&](std::size_t b, unsigned lane) {
            const Index begin = static_cast<Index>(b) * inference_batch_size;
            f(begin, std::min(inference_batch_size, cols - begin), lane);
        });
    }

    BasicNetwork()
        : params_(Vector<T>::Zero(parameter_count)), grads_(Vector<T>::Zero(parameter_count)),
          state_(Vector<T>::Zero(state_count)) {
        attach();
        initialize_state();
    }

    template <class F>
    void for_each_layer(F&& f) {
        [&]<std::size_t... Is>(std::index_sequence<Is...>) {
            (f.template operator()<Is>(std::get<Is>(layers_)), ...);
        }(std::make_index_sequence<depth>{});
    }

    template <std::size_t I>
    void measure_layer_state(const Workspace& ws, T* out) const {
        if constexpr (Plan::state_counts[I] > 0)
            std::get<I>(layers_).measure_state(std::get<I>(ws.scratch), out + Plan::state_offset[I]);
    }

    void attach() {
        for_each_layer([&]<std::size_t I>(auto& layer) {
            if constexpr (Plan::parameter_counts[I] > 0) layer.attach(params_.data() + Plan::parameter_offset[I]);
            if constexpr (Plan::state_counts[I] > 0) layer.attach_state(state_.data() + Plan::state_offset[I]);
        });
    }

    /// dL/dP of the loss (or, fused, dL/dZ of the output activation) into the last delta.
    void loss_gradient(const Batch& Y, Workspace& ws, T scale) const {
        check_targets(Y.rows(), Y.cols(), ws, "backward");
        const Matrix<T>& P = ws.out[Plan::buffer[depth - 1]];
        Matrix<T>& dP = ws.delta[Plan::buffer[depth - 1]];
        dP.resize(P.rows(), P.cols());
        if constexpr (fused)
            FusedGradient<spec_t<depth - 1>, LossType>::apply(P, Y, scale, dP);
        else
            LossType::gradient(P, Y, scale, dP);
    }

    /// The batch of the pass in ws, as layer 0 reads it.
    static Batch input_of(const Workspace& ws) { return Batch(ws.input, input_size, ws.batch); }

    /// Layer I's input in ws: the batch, or the output of the layer before (a
    /// view's output is its input's buffer under another shape).
    template <std::size_t I>
    static Batch input_of_layer(const Workspace& ws) {
        if constexpr (Plan::reads_input[I]) {
            return input_of(ws);
        } else {
            const Matrix<T>& in = ws.out[Plan::buffer[I - 1]];
            return Batch(in.data(), Plan::width_in[I], ws.batch);
        }
    }

    template <std::size_t I>
    void forward_layer(Workspace& ws) const {
        if constexpr (!Plan::view[I]) compute_layer<I>(ws);
    }

    template <std::size_t I>
    void compute_layer(Workspace& ws) const {
        Matrix<T>& A = ws.out[Plan::buffer[I]];
        const auto& layer = std::get<I>(layers_);
        auto& scratch = std::get<I>(ws.scratch);
        const Pass pass = ws.pass.for_layer(I);
        if constexpr (Plan::elementwise[I]) {
            if constexpr (Plan::reads_input[I])
                A = input_of(ws);
            else if constexpr (Plan::buffer[I] != Plan::buffer[I - 1])
                A = ws.out[Plan::buffer[I - 1]];
            if constexpr (detail::FullElementwise<layer_t<I>, T>)
                layer.forward(A, scratch, pass);
            else
                layer.forward(A);
        } else {
            A.resize(Plan::width_out[I], ws.batch);
            layer.forward(input_of_layer<I>(ws), A, scratch, pass);
        }
        note_nonfinite<I>(A, ws);
        if constexpr (detail::is_kinked<spec_t<I>>()) {
            if (ws.record_kinks) ws.kink_signature = detail::fold_signs(ws.kink_signature, A);
        }
        if constexpr (requires { { layer.branch_signature(scratch) } -> std::convertible_to<std::uint64_t>; }) {
            if (ws.record_kinks) ws.kink_signature = detail::mix64(ws.kink_signature ^ layer.branch_signature(scratch));
        }
    }

    template <std::size_t I>
    static void note_nonfinite(const Matrix<T>& A, Workspace& ws) {
        // x * 0 is 0 for every finite x and NaN for NaN and +-inf, so one vectorised
        // sum tells whether A is all finite (faster than allFinite(), and no
        // overflow can turn large finite values into a false alarm).
        if (ws.check_finite && ws.nonfinite_layer < 0 && (A.array() * T(0)).sum() != T(0))
            ws.nonfinite_layer = static_cast<int>(I);
    }

    template <std::size_t I>
    void backward_layer(Workspace& ws, T* grad) const {
        // A view's dL/d(output) is dL/d(input), in the same buffer.
        if constexpr (!Plan::view[I]) back_propagate<I>(ws, grad);
    }

    template <std::size_t I>
    void back_propagate(Workspace& ws, T* grad) const {
        Matrix<T>& dA = ws.delta[Plan::buffer[I]];
        const auto& layer = std::get<I>(layers_);
        auto& scratch = std::get<I>(ws.scratch);
        const Pass pass = ws.pass.for_layer(I);
        if constexpr (Plan::elementwise[I]) {
            if constexpr (Plan::input_gradient_needed[I]) {
                if constexpr (!(I == depth - 1 && fused)) {
                    if constexpr (detail::FullElementwise<layer_t<I>, T>)
                        layer.backward(ws.out[Plan::buffer[I]], dA, scratch, pass);
                    else
                        layer.backward(ws.out[Plan::buffer[I]], dA);
                }
                if constexpr (Plan::buffer[I] != Plan::buffer[I - 1]) ws.delta[Plan::buffer[I - 1]] = dA;
            }
        } else {
            T* g = grad + Plan::parameter_offset[I];
            Matrix<T>* dX = nullptr;
            if constexpr (Plan::input_gradient_needed[I]) {
                dX = &ws.delta[Plan::buffer[I - 1]];
                dX->resize(Plan::width_in[I], dA.cols());
            }
            layer.backward(input_of_layer<I>(ws), dA, dX, g, scratch, pass);
        }
    }

    static void check_inputs(const Batch& X, const char* who) {
        if (X.rows() != input_size)
            throw std::invalid_argument("scratchnet::Network::" + std::string(who) + ": X has " +
                                        std::to_string(X.rows()) + " rows but the network takes " +
                                        std::to_string(input_size) + " inputs (one sample per column)");
        if (X.cols() == 0)
            throw std::invalid_argument("scratchnet::Network::" + std::string(who) + ": X is an empty batch");
    }

    static void check_targets(Index rows, Index cols, const Workspace& ws, const char* who) {
        if (ws.input == nullptr)
            throw std::logic_error("scratchnet::Network::" + std::string(who) + ": call forward() first");
        if (rows != output_size || cols != ws.batch)
            throw std::invalid_argument("scratchnet::Network::" + std::string(who) + ": Y is " + std::to_string(rows) +
                                        " x " + std::to_string(cols) + " but the output for this batch is " +
                                        std::to_string(output_size) + " x " + std::to_string(ws.batch));
    }

    Vector<T> params_;
    Vector<T> grads_;
    Vector<T> state_;
    Vector<T> measured_ = Vector<T>(state_count);  // the course API's training pass, measured
    typename Pack::layers layers_;
    Workspace ws_;
    Matrix<T> input_;  // the course API's copy of the batch of the last forward()
    std::uint64_t training_passes_ = 0;  // names the random stream of forward(X, Mode::training)
    std::uint64_t id_ = detail::next_network_id();
};

/// The float network of the public contract: Network<Dense<784,128>, ReLU, ..., CrossEntropy>.
template <class... Parts>
using Network = BasicNetwork<float, Parts...>;

}  // namespace scratchnet
