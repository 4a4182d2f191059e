#pragma once
// Judging a trained network: evaluate() (mean loss and accuracy; for a multi-label
// network also the exact-match ratio; for a regression network MSE, MAE and R^2),
// accuracy(), confusion_matrix(). All take a const network and work through it in
// blocks of columns, each thread with its own workspace, so they are safe to call
// concurrently; the blocks spread over threads with the bits of one thread.

#include "scratchnet/core.hpp"
#include "scratchnet/detail/inference_blocks.hpp"
#include "scratchnet/training/batch_source.hpp"
#include "scratchnet/task.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace scratchnet {

/// evaluate() of a classifier (Task::classification or Task::binary).
struct Evaluation {
    double loss = 0.0;      ///< mean loss per sample
    double accuracy = 0.0;  ///< fraction of samples whose predicted class is the true class
};

/// evaluate() of a regression network: no accuracy, the usual error figures.
struct RegressionEvaluation {
    double loss = 0.0;  ///< mean loss per sample
    double mse = 0.0;   ///< mean of (prediction - target)^2 over all outputs and samples
    double mae = 0.0;   ///< mean of |prediction - target|, likewise
    /// Coefficient of determination 1 - SS_res / SS_tot of each output, averaged
    /// over the outputs (scikit-learn's r2_score); an output whose targets are all
    /// equal counts 1 when predicted exactly, else 0.
    double r2 = 0.0;
};

/// evaluate() of a multi-label network (Task::multilabel).
struct MultilabelEvaluation {
    double loss = 0.0;         ///< mean loss per sample
    double accuracy = 0.0;     ///< fraction of labels (outputs x samples) right: Keras' binary accuracy
    double exact_match = 0.0;  ///< fraction of samples with every label right
};

/// What evaluate() returns for network type Net.
template <class Net>
using EvaluationOf = std::conditional_t<
    Net::task == Task::regression, RegressionEvaluation,
    std::conditional_t<Net::task == Task::multilabel, MultilabelEvaluation, Evaluation>>;

namespace detail {

/// Samples of a data set named by index (a validation split), or all of them.
struct Subset {
    const Index* indices = nullptr;  ///< nullptr: every sample, in order
    Index size = 0;
};

/// Calls f(P, targets_block, loss_sum) for consecutive blocks of up to `block`
/// samples of the subset, in order (in inference mode: a fresh workspace's pass).
/// The passes run on `threads` threads (0: one per processor); with more than
/// one, each block's outputs and targets are kept until f has seen the blocks
/// before it, so f sees exactly what one thread gives.
template <class Net, class Inputs, class Targets, class F>
void for_each_block(const Net& net, const Inputs& X, const Targets& Y, F&& f, const std::string& who,
                    Subset subset = {}, unsigned threads = 0, Index block = Net::inference_batch_size) {
    using T = typename Net::Scalar;
    check_data<Net>(X, Y, who);
    const Index n = subset.indices != nullptr ? subset.size : sample_count(X);
    // As fit() does: a NaN input would be scored (a class 0 "predicted", a NaN loss).
    if constexpr (std::floating_point<typename Inputs::Scalar>)
        for (Index k = 0; k < n; ++k) {
            const Index j = subset.indices != nullptr ? subset.indices[k] : k;
            if (!X.col(j).allFinite())
                throw std::invalid_argument(who + ": the inputs of sample " + std::to_string(j) +
                                            " hold NaN or infinity; clean the data");
        }
    const auto blocks = static_cast<std::size_t>((n + block - 1) / block);
    struct Lane {
        typename Net::Workspace ws;
        Matrix<T> Xb, Yb;
        std::vector<Index> idx;
    };
    std::vector<Lane> lanes;
    std::vector<Matrix<T>> outputs, targets;  // per block, when the blocks run on several threads
    std::vector<T> losses;
    run_blocks(
        blocks, threads,
        [&](unsigned k) {
            lanes.resize(k);
            for (Lane& lane : lanes) lane.idx.resize(static_cast<std::size_t>(std::min(block, n)));
            if (k > 1) outputs.resize(blocks), targets.resize(blocks), losses.resize(blocks);
        },
        [&](std::size_t b, unsigned w) {
            Lane& lane = lanes[w];
            const Index begin = static_cast<Index>(b) * block, m = std::min(block, n - begin);
            if (subset.indices != nullptr)
                std::copy_n(subset.indices + begin, m, lane.idx.begin());
            else
                std::iota(lane.idx.begin(), lane.idx.begin() + m, begin);
            gather_inputs(X, lane.idx.data(), m, lane.Xb);
            Matrix<T>& Yb = outputs.empty() ? lane.Yb : targets[b];
            gather_targets(Y, lane.idx.data(), m, Net::output_size, Yb);
            const typename Net::Batch view(lane.Xb.data(), lane.Xb.rows(), m);
            const Matrix<T>& P = net.forward(view, lane.ws);
            const T loss = net.loss_sum(typename Net::Batch(Yb.data(), Yb.rows(), m), lane.ws);
            if (outputs.empty()) {
                f(P, Yb, loss);  // one thread: the blocks come in order
            } else {
                outputs[b] = P;
                losses[b] = loss;
            }
        });
    for (std::size_t b = 0; b < outputs.size(); ++b) f(outputs[b], targets[b], losses[b]);
}

/// Sums for MSE, MAE and R^2 over blocks of predictions and targets; SS_tot of
/// each output by Welford's update (no cancellation for targets far from 0).
struct RegressionSums {
    double squared = 0, absolute = 0;
    Index count = 0;
    std::vector<double> mean, m2, residual;  // per output

    template <class DP, class DY>
    void add(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y) {
        const auto outputs = static_cast<std::size_t>(P.rows());
        if (mean.empty()) mean.assign(outputs, 0.0), m2.assign(outputs, 0.0), residual.assign(outputs, 0.0);
        for (Index j = 0; j < P.cols(); ++j) {
            ++count;
            for (std::size_t i = 0; i < outputs; ++i) {
                const auto r = static_cast<Index>(i);
                const double y = static_cast<double>(Y(r, j)), e = static_cast<double>(P(r, j)) - y;
                squared += e * e;
                absolute += std::abs(e);
                residual[i] += e * e;
                const double d = y - mean[i];
                mean[i] += d / static_cast<double>(count);
                m2[i] += d * (y - mean[i]);
            }
        }
    }

    RegressionEvaluation finish(double loss_sum) const {
        const auto n = static_cast<double>(count), values = n * static_cast<double>(mean.size());
        double r2 = 0.0;
        for (std::size_t i = 0; i < mean.size(); ++i)
            r2 += m2[i] > 0 ? 1.0 - residual[i] / m2[i] : (residual[i] == 0 ? 1.0 : 0.0);
        return {loss_sum / n, squared / values, absolute / values, r2 / static_cast<double>(mean.size())};
    }
};

/// evaluate() over the samples of `subset`.
template <class Net, class Inputs, class Targets>
EvaluationOf<Net> evaluate_subset(const Net& net, const Inputs& X, const Targets& Y, Subset subset,
                                  const std::string& who = "scratchnet::evaluate", unsigned threads = 0) {
    double loss = 0.0;
    if constexpr (Net::task == Task::regression) {
        RegressionSums sums;
        for_each_block(
            net, X, Y,
            [&](const auto& P, const auto& Yb, auto loss_sum) {
                loss += static_cast<double>(loss_sum);
                sums.add(P, Yb);
            },
            who, subset, threads);
        return sums.finish(loss);
    } else {
        constexpr Index judged = judgements_per_sample(Net::task, Net::output_size);
        Index correct = 0, exact = 0;
        for_each_block(
            net, X, Y,
            [&](const auto& P, const auto& Yb, auto loss_sum) {
                loss += static_cast<double>(loss_sum);
                for (Index j = 0; j < P.cols(); ++j) {
                    const Index h = hits<Net::task>(P, Yb, j);
                    correct += h;
                    exact += h == judged ? 1 : 0;
                }
            },
            who, subset, threads);
        const auto n = static_cast<double>(subset.indices != nullptr ? subset.size : sample_count(X));
        const double accuracy = static_cast<double>(correct) / (static_cast<double>(judged) * n);
        if constexpr (Net::task == Task::multilabel)
            return MultilabelEvaluation{loss / n, accuracy, static_cast<double>(exact) / n};
        else
            return Evaluation{loss / n, accuracy};
    }
}

}  // namespace detail

/// How `net` does on inputs X (one sample per column: a Matrix<T>, a ByteMatrix,
/// or any Eigen expression of them) against targets Y (a Matrix<T> of targets, or
/// Labels for a classifier): an Evaluation (mean loss, accuracy) for a classifier,
/// a RegressionEvaluation (mean loss, MSE, MAE, R^2) for a regression network.
/// Runs in inference mode (Dropout off) whatever the network was last used for,
/// on `threads` threads (0: one per processor, as fit()) with the bits of one.
template <class Net, class Inputs, class Targets>
EvaluationOf<Net> evaluate(const Net& net, const Inputs& X, const Targets& Y, unsigned threads = 0) {
    return detail::evaluate_subset(net, X, Y, {}, "scratchnet::evaluate", threads);
}

/// Fraction of samples classified correctly (binary networks: p >= 0.5 is class 1;
/// multi-label networks: the fraction of labels right). Threads as evaluate().
template <class Net, class Inputs, class Targets>
double accuracy(const Net& net, const Inputs& X, const Targets& Y, unsigned threads = 0) {
    static_assert(Net::task != Task::regression,
                  "scratchnet::accuracy: a regression network has no accuracy; evaluate() gives its MSE, MAE and R^2");
    return detail::evaluate_subset(net, X, Y, {}, "scratchnet::accuracy", threads).accuracy;
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

/// Confusion matrix of `net` on (X, y); classes = Net::class_count (the outputs,
/// or 2 for a binary network). Threads as evaluate().
template <class Net, class Inputs>
Eigen::MatrixXi confusion_matrix(const Net& net, const Inputs& X, const Labels& y, unsigned threads = 0) {
    static_assert(Net::task != Task::regression,
                  "scratchnet::confusion_matrix: a regression network has no classes");
    static_assert(Net::task != Task::multilabel,
                  "scratchnet::confusion_matrix: a multi-label network gives several yes/no answers per sample, not "
                  "one class: compare predict(X) with the 0/1 targets label by label");
    Eigen::MatrixXi C = Eigen::MatrixXi::Zero(Net::class_count, Net::class_count);
    detail::for_each_block(
        net, X, y,
        [&](const auto& P, const auto& Yb, auto) {
            for (Index j = 0; j < P.cols(); ++j)
                ++C(detail::predicted_class<Net::task>(Yb, j), detail::predicted_class<Net::task>(P, j));
        },
        "scratchnet::confusion_matrix", {}, threads);
    return C;
}

}  // namespace scratchnet
