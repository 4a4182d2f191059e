#pragma once
// Training entry points: train_step() for one batch, fit() for epochs of shuffled
// mini-batches (the loop itself is training/trainer.hpp's Trainer).
//
// fit() shuffles sample indices (never the data) from its seed each epoch, gathers
// each batch into a preallocated matrix, splits it across threads in fixed chunks
// (training/batch_gradient.hpp) and reports through callbacks; it prints nothing.
// Around that loop, the tools of FitOptions: learning-rate schedules, gradient
// clipping, a max-norm constraint, weight averaging, a validation split and early
// stopping.

#include "scratchnet/core.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/optimizers/optimizer.hpp"
#include "scratchnet/training/batch_source.hpp"
#include "scratchnet/training/history.hpp"
#include "scratchnet/training/options.hpp"
#include "scratchnet/training/trainer.hpp"

namespace scratchnet {

/// Validation data for fit(): inputs (Matrix<T>, ByteMatrix or another Eigen
/// matrix) and targets (Matrix<T> or Labels), held by reference, so they must
/// outlive the fit() call. A temporary (`ValidationData(X, Labels(y.head(50)))`)
/// does not compile: it would be gone before fit() reads it. Name it first.
template <class Inputs, class Targets>
class ValidationData {
public:
    ValidationData(const Inputs& X, const Targets& Y) : inputs(X), targets(Y) {}
    ValidationData(const Inputs&&, const Targets&) = delete;
    ValidationData(const Inputs&, const Targets&&) = delete;
    ValidationData(const Inputs&&, const Targets&&) = delete;

    const Inputs& inputs;
    const Targets& targets;
};
template <class Inputs, class Targets>
ValidationData(const Inputs&, const Targets&) -> ValidationData<Inputs, Targets>;

/// One step of mini-batch gradient descent in training mode: forward, loss,
/// backward, update.
/// Returns the batch's mean loss. Allocates nothing after the first call at a
/// given batch size.
template <class Net, class Opt>
typename Net::Scalar train_step(Net& net, Opt& optimizer, const Matrix<typename Net::Scalar>& X,
                                const Matrix<typename Net::Scalar>& Y) {
    static_assert(Optimizer<Opt, Net>, "scratchnet::train_step: the optimizer needs a step(net) member");
    const auto loss = net.loss(X, Y, Mode::training);
    net.backward(Y);
    optimizer.step(net);
    return loss;
}

/// train_step() with class labels as targets, encoded as fit() does (one-hot, or
/// 0/1 for a binary network); the encoding allocates the target matrix.
template <class Net, class Opt, class L>
    requires detail::LabelData<L>
typename Net::Scalar train_step(Net& net, Opt& optimizer, const Matrix<typename Net::Scalar>& X, const L& y) {
    detail::check_data<Net>(X, y, "scratchnet::train_step");
    Matrix<typename Net::Scalar> Y;
    detail::encode_labels(y, Net::output_size, Y);
    return train_step(net, optimizer, X, Y);
}

/// Trains `net` with `optimizer` on inputs X (one sample per column: Matrix<T>,
/// ByteMatrix, or any Eigen expression such as X.leftCols(n) or a Map over the
/// caller's buffer) and targets Y (a Matrix<T> of targets, or Labels: one-hot
/// encoded, or 0/1 for a binary network), in training mode (Dropout drops).
/// Same seed, same result, for any thread count.
template <class Net, class Opt, class Inputs, class Targets>
History fit(Net& net, Opt& optimizer, const Inputs& X, const Targets& Y, const FitOptions& options = {},
            const FitCallbacks& callbacks = {}) {
    static_assert(Optimizer<Opt, Net>, "scratchnet::fit: the optimizer needs a step(net) member");
    const detail::NoValidation none;
    return detail::Trainer(net, optimizer, X, Y, none, options, callbacks).run();
}

/// As above, evaluating on `validation` (in inference mode) after every epoch.
template <class Net, class Opt, class Inputs, class Targets, class VInputs, class VTargets>
History fit(Net& net, Opt& optimizer, const Inputs& X, const Targets& Y,
            const ValidationData<VInputs, VTargets>& validation, const FitOptions& options = {},
            const FitCallbacks& callbacks = {}) {
    static_assert(Optimizer<Opt, Net>, "scratchnet::fit: the optimizer needs a step(net) member");
    return detail::Trainer(net, optimizer, X, Y, validation, options, callbacks).run();
}

}  // namespace scratchnet
