#pragma once
// Judging a trained network: evaluate() (mean loss and accuracy), accuracy(),
// confusion_matrix(). All take a const network and work through it in blocks of
// columns with their own workspace, so they are safe to call concurrently.

#include "scratchnet/core.hpp"
#include "scratchnet/detail/batch_source.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace scratchnet {

struct Evaluation {
    double loss = 0.0;      ///< mean loss per sample
    double accuracy = 0.0;  ///< fraction of samples whose argmax output is the true class
};

namespace detail {

/// Samples of a data set named by index (a validation split), or all of them.
struct Subset {
    const Index* indices = nullptr;  ///< nullptr: every sample, in order
    Index size = 0;
};

/// Calls f(P, targets_block, loss_sum) for consecutive blocks of up to `block`
/// samples of the subset (in inference mode: a fresh workspace's pass).
template <class Net, class Inputs, class Targets, class F>
void for_each_block(const Net& net, const Inputs& X, const Targets& Y, F&& f, Subset subset = {},
                    Index block = 1024) {
    using T = typename Net::Scalar;
    check_data<Net>(X, Y, "scratchnet::evaluate");
    const Index n = subset.indices != nullptr ? subset.size : sample_count(X);
    typename Net::Workspace ws;
    Matrix<T> Xb, Yb;
    std::vector<Index> idx(static_cast<std::size_t>(std::min(block, n)));
    for (Index begin = 0; begin < n; begin += block) {
        const Index m = std::min(block, n - begin);
        if (subset.indices != nullptr)
            std::copy_n(subset.indices + begin, m, idx.begin());
        else
            std::iota(idx.begin(), idx.begin() + m, begin);
        gather_inputs(X, idx.data(), m, Xb);
        gather_targets(Y, idx.data(), m, Net::output_size, Yb);
        const typename Net::Batch view(Xb.data(), Xb.rows(), m);
        const Matrix<T>& P = net.forward(view, ws);
        f(P, Yb, net.loss_sum(typename Net::Batch(Yb.data(), Yb.rows(), m), ws));
    }
}

/// evaluate() over the samples of `subset`.
template <class Net, class Inputs, class Targets>
Evaluation evaluate_subset(const Net& net, const Inputs& X, const Targets& Y, Subset subset) {
    double loss = 0.0;
    Index correct = 0;
    for_each_block(
        net, X, Y,
        [&](const auto& P, const auto& Yb, auto loss_sum) {
            loss += static_cast<double>(loss_sum);
            for (Index j = 0; j < P.cols(); ++j) correct += argmax_col(P, j) == argmax_col(Yb, j) ? 1 : 0;
        },
        subset);
    const auto n = static_cast<double>(subset.indices != nullptr ? subset.size : sample_count(X));
    return {loss / n, static_cast<double>(correct) / n};
}

}  // namespace detail

/// Mean loss and accuracy of `net` on inputs X (Matrix<T> or ByteMatrix, one
/// sample per column) against targets Y (one-hot Matrix<T> or Labels).
/// Runs in inference mode (Dropout off) whatever the network was last used for.
template <class Net, class Inputs, class Targets>
Evaluation evaluate(const Net& net, const Inputs& X, const Targets& Y) {
    return detail::evaluate_subset(net, X, Y, {});
}

/// Fraction of samples classified correctly.
template <class Net, class Inputs, class Targets>
double accuracy(const Net& net, const Inputs& X, const Targets& Y) {
    return evaluate(net, X, Y).accuracy;
}

/// Fraction of entries where two label vectors agree.
inline double accuracy(const Labels& predicted, const Labels& truth) {
    if (predicted.size() != truth.size() || truth.size() == 0)
        throw std::invalid_argument("scratchnet::accuracy: label vectors differ in size or are empty");
    Index agree = 0;
    for (Index i = 0; i < truth.size(); ++i) agree += predicted[i] == truth[i] ? 1 : 0;
    return static_cast<double>(agree) / static_cast<double>(truth.size());
}

/// C(i, j) = number of samples of true class i predicted as class j.
inline Eigen::MatrixXi confusion_matrix(const Labels& predicted, const Labels& truth, Index classes) {
    if (predicted.size() != truth.size())
        throw std::invalid_argument("scratchnet::confusion_matrix: label vectors differ in size");
    if (classes <= 0)
        throw std::invalid_argument("scratchnet::confusion_matrix: classes must be positive, got " +
                                    std::to_string(classes));
    Eigen::MatrixXi C(classes, classes);
    std::fill_n(C.data(), C.size(), 0);
    for (Index i = 0; i < truth.size(); ++i) {
        if (truth[i] < 0 || truth[i] >= classes || predicted[i] < 0 || predicted[i] >= classes)
            throw std::invalid_argument("scratchnet::confusion_matrix: label of sample " + std::to_string(i) +
                                        " is outside 0.." + std::to_string(classes - 1));
        ++C(truth[i], predicted[i]);
    }
    return C;
}

/// Confusion matrix of `net` on (X, y); classes = the network's outputs.
template <class Net, class Inputs>
Eigen::MatrixXi confusion_matrix(const Net& net, const Inputs& X, const Labels& y) {
    Eigen::MatrixXi C = Eigen::MatrixXi::Zero(Net::output_size, Net::output_size);
    detail::for_each_block(net, X, y, [&](const auto& P, const auto& Yb, auto) {
        for (Index j = 0; j < P.cols(); ++j) ++C(detail::argmax_col(Yb, j), detail::argmax_col(P, j));
    });
    return C;
}

}  // namespace scratchnet
