#pragma once
// Training: train_step() for one batch, fit() for epochs of shuffled mini-batches.
//
// fit() shuffles sample indices (never the data) from its seed each epoch, gathers
// each batch into a preallocated matrix, splits it across threads in fixed chunks
// (see detail/batch_gradient.hpp) and reports through callbacks; it prints nothing.

#include "scratchnet/core.hpp"
#include "scratchnet/detail/batch_gradient.hpp"
#include "scratchnet/detail/batch_source.hpp"
#include "scratchnet/detail/monotonic_clock.hpp"
#include "scratchnet/metrics.hpp"
#include "scratchnet/optimizers.hpp"

#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace scratchnet {

/// Thrown when training cannot go on (a loss that is NaN or infinite).
class TrainingError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// How fit() spreads a batch over its threads. Both give the same bits for any
/// thread count, but add layer 0's gradient in different orders, so results
/// differ between them (as between chunk sizes).
enum class BatchSplit {
    automatic,  ///< by_rows where it can work and layer 0 has >= 2^18 weights (W outgrows a core's L2)
    by_samples, ///< fixed column chunks of chunk_size; every thread reads all of W
    by_rows,    ///< layer 0's products by output rows, the rest by samples; fit throws
                ///< std::invalid_argument unless layer 0 is Dense with a multiple of 16 outputs
};

struct FitOptions {
    int epochs = 1;
    Index batch_size = 32;
    std::uint64_t seed = 0;     ///< seeds the per-epoch shuffles
    bool shuffle = true;
    bool drop_last = false;     ///< drop a final partial batch instead of training on it
    unsigned threads = 1;       ///< 0: one per hardware thread
    /// Columns per parallel chunk. Results depend on this (how a batch is summed),
    /// never on `threads`.
    Index chunk_size = 64;
    /// Stop with TrainingError as soon as any layer's output holds a NaN or an
    /// infinity, naming the layer (costs one read of each output per batch).
    bool check_finite = true;
    /// How a batch is spread over the threads (see BatchSplit).
    BatchSplit split = BatchSplit::automatic;
};

/// One line of the training history.
struct EpochRecord {
    int epoch = 0;                 ///< 1-based
    double loss = 0.0;             ///< mean training loss over the epoch's batches
    double accuracy = 0.0;         ///< running training accuracy (as the batches were seen)
    std::optional<double> validation_loss;
    std::optional<double> validation_accuracy;
    double seconds = 0.0;          ///< training time of the epoch (validation excluded)
};

using History = std::vector<EpochRecord>;

/// Where fit() is, passed to the per-batch callback.
struct BatchProgress {
    int epoch = 0, epochs = 0;  ///< 1-based epoch
    Index batch = 0, batches = 0;  ///< 1-based batch within the epoch
    Index samples = 0, samples_per_epoch = 0;  ///< seen so far in this epoch
    double running_loss = 0.0;  ///< mean loss over the epoch so far
    double seconds = 0.0;       ///< since the epoch began
};

/// Callbacks return true to go on, false to stop training after the current batch.
struct FitCallbacks {
    std::function<bool(const BatchProgress&)> on_batch;
    std::function<bool(const EpochRecord&)> on_epoch;
};

/// Validation data for fit(): inputs (Matrix<T> or ByteMatrix) and targets
/// (one-hot Matrix<T> or Labels), held by reference.
template <class Inputs, class Targets>
struct ValidationData {
    const Inputs& inputs;
    const Targets& targets;
};

/// One step of mini-batch gradient descent: forward, loss, backward, update.
/// Returns the batch's mean loss. Allocates nothing after the first call at a
/// given batch size.
template <class Net, class Opt>
typename Net::Scalar train_step(Net& net, Opt& optimizer, const Matrix<typename Net::Scalar>& X,
                                const Matrix<typename Net::Scalar>& Y) {
    static_assert(Optimizer<Opt, Net>, "scratchnet::train_step: the optimizer needs a step(net) member");
    const auto loss = net.loss(X, Y);
    net.backward(Y);
    optimizer.step(net);
    return loss;
}

namespace detail {

struct NoValidation {};

template <class Net, class Opt, class Inputs, class Targets, class Validation>
History fit_impl(Net& net, Opt& optimizer, const Inputs& X, const Targets& Y, const Validation& validation,
                 const FitOptions& options, const FitCallbacks& callbacks) {
    static_assert(Optimizer<Opt, Net>, "scratchnet::fit: the optimizer needs a step(net) member");
    using T = typename Net::Scalar;
    check_data<Net>(X, Y, "scratchnet::fit");
    const Index n = sample_count(X);
    if (options.batch_size <= 0)
        throw std::invalid_argument("scratchnet::fit: batch_size must be positive, got " +
                                    std::to_string(options.batch_size));
    if (options.epochs < 0)
        throw std::invalid_argument("scratchnet::fit: epochs must be >= 0, got " + std::to_string(options.epochs));

    const Index batch_size = std::min(options.batch_size, n);
    const Index full = n / batch_size;
    const Index batches = (options.drop_last || n % batch_size == 0) ? full : full + 1;
    if (batches == 0) throw std::invalid_argument("scratchnet::fit: drop_last leaves no batch");

    using Gradient = BatchGradient<Net>;
    const bool split_rows = options.split == BatchSplit::automatic ? Gradient::kRowsByDefault
                                                                   : options.split == BatchSplit::by_rows;
    Gradient gradient(options.threads, options.chunk_size, options.check_finite, split_rows);
    std::vector<Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Index{0});
    Rng rng(options.seed);

    History history;
    history.reserve(static_cast<std::size_t>(options.epochs));  // no allocation between epochs
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
        if (options.shuffle) shuffle(order.begin(), order.end(), rng);
        const double start = monotonic_seconds();
        double loss_sum = 0.0;
        Index correct = 0, seen = 0;
        bool stop = false;
        for (Index b = 0; b < batches && !stop; ++b) {
            const Index begin = b * batch_size;
            const Index m = std::min(batch_size, n - begin);
            const Index* idx = order.data() + begin;
            const auto r = gradient.compute(
                net, m, [&](Index from, Index count, Matrix<T>& Xk) { gather_inputs(X, idx + from, count, Xk); },
                [&](Index from, Index count, Matrix<T>& Yk) {
                    gather_targets(Y, idx + from, count, Net::output_size, Yk);
                });
            if (r.nonfinite_layer >= 0 || !std::isfinite(r.loss_sum)) {
                gradient.sum(net, [](Index, Index) {});  // the whole gradient, for whoever inspects it
                const std::string where = " in epoch " + std::to_string(epoch) + ", batch " + std::to_string(b + 1) +
                                          " of " + std::to_string(batches) + " (try a smaller learning rate)";
                if (r.nonfinite_layer >= 0)
                    throw TrainingError("scratchnet::fit: the output of layer " + std::to_string(r.nonfinite_layer) +
                                        " (" + Net::layer_name(static_cast<std::size_t>(r.nonfinite_layer)) +
                                        ") holds NaN or infinity" + where);
                throw TrainingError("scratchnet::fit: the loss became " +
                                    std::string(std::isnan(r.loss_sum) ? "NaN" : "infinite") + where);
            }
            // Only now, with the batch known to be finite, do the parameters move.
            if constexpr (RangeOptimizer<Opt, Net>) {
                optimizer.begin_step(net);
                gradient.sum(net, [&](Index from, Index to) { optimizer.update(net, from, to); });
            } else {
                gradient.sum(net, [](Index, Index) {});
                optimizer.step(net);
            }
            loss_sum += static_cast<double>(r.loss_sum);
            correct += r.correct;
            seen += m;
            if (callbacks.on_batch) {
                const BatchProgress p{epoch, options.epochs, b + 1, batches, seen, n, loss_sum / static_cast<double>(seen),
                                      monotonic_seconds() - start};
                stop = !callbacks.on_batch(p);
            }
        }
        EpochRecord record;
        record.epoch = epoch;
        record.seconds = monotonic_seconds() - start;
        record.loss = loss_sum / static_cast<double>(seen);
        record.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
        if constexpr (!std::is_same_v<Validation, NoValidation>) {
            const Evaluation e = evaluate(net, validation.inputs, validation.targets);
            record.validation_loss = e.loss;
            record.validation_accuracy = e.accuracy;
        }
        history.push_back(record);
        if (callbacks.on_epoch && !callbacks.on_epoch(record)) stop = true;
        if (stop) break;
    }
    return history;
}

}  // namespace detail

/// Trains `net` with `optimizer` on inputs X (Matrix<T> or ByteMatrix, one sample per
/// column) and targets Y (one-hot Matrix<T> or Labels). Same seed, same result, for
/// any thread count.
template <class Net, class Opt, class Inputs, class Targets>
History fit(Net& net, Opt& optimizer, const Inputs& X, const Targets& Y, const FitOptions& options = {},
            const FitCallbacks& callbacks = {}) {
    return detail::fit_impl(net, optimizer, X, Y, detail::NoValidation{}, options, callbacks);
}

/// As above, evaluating on `validation` after every epoch.
template <class Net, class Opt, class Inputs, class Targets, class VInputs, class VTargets>
History fit(Net& net, Opt& optimizer, const Inputs& X, const Targets& Y,
            const ValidationData<VInputs, VTargets>& validation, const FitOptions& options = {},
            const FitCallbacks& callbacks = {}) {
    return detail::fit_impl(net, optimizer, X, Y, validation, options, callbacks);
}

}  // namespace scratchnet
