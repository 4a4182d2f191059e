#pragma once
// The loss contract, and the losses: value/gradient pairs over a batch P
// (predictions) against Y (targets), both outputs x batch.
//
// A loss L, as the last template argument of Network<...>:
//   static S sum(const MatrixBase<DP>& P, const MatrixBase<DY>& Y)
//       requires: P and Y have equal shapes.
//       ensures:  the per-sample losses added over the columns (the network divides
//                 by the batch size for the mean).
//   static void gradient(const MatrixBase<DP>& P, const MatrixBase<DY>& Y, S scale, Matrix<S>& dP)
//       requires: dP is sized as P (by the network).
//       ensures:  dP = scale * d sum / dP. The network passes scale = 1 / batch, so
//                 chunks of one batch add up to the batch's gradient exactly.
//   static const char* name()       goes into architecture() and model files.
//   optional traits (each has a default that cannot give a silent wrong answer):
//   static constexpr bool takes_probabilities   true: it takes logs of its
//       predictions, so the layer before it must declare gives_probabilities
//       (layer.hpp); anything else is a compile error. Default false.
//   static constexpr Task task      what its targets are (task.hpp):
//       Task::classification  one class of several (one-hot columns);
//       Task::binary          each output an independent 0/1 label (one output:
//                             a binary network; several: Task::multilabel);
//       Task::regression      values: the default, so a loss that says nothing
//                             about classes is never judged by accuracy.
//   A specialisation of FusedGradient<OutputLayer, L> (below) may give the
//   combined gradient of an output layer and this loss.

#include "scratchnet/core.hpp"
#include "scratchnet/layers/activations.hpp"
#include "scratchnet/task.hpp"

#include <concepts>
#include <limits>

namespace scratchnet {

/// The loss contract (see the top of this file): checked on float matrices.
template <class L>
concept Loss = requires(const Matrix<float>& P, Matrix<float>& dP) {
    { L::sum(P, P) } -> std::convertible_to<float>;
    L::gradient(P, P, 1.0f, dP);
    { L::name() } -> std::convertible_to<const char*>;
};

namespace detail {
template <class L>
constexpr bool takes_probabilities() {
    if constexpr (requires { { L::takes_probabilities } -> std::convertible_to<bool>; })
        return L::takes_probabilities;
    else
        return false;
}

template <class L>
constexpr bool check_is_loss() {
    static_assert(Loss<L>,
                  "scratchnet::Network: the last template argument must be a loss: static sum(P, Y), "
                  "gradient(P, Y, scale, dP) and name() (the loss contract, scratchnet/losses.hpp)");
    return Loss<L>;
}
}  // namespace detail

/// Per sample  l = -sum_i y_i log p_i  (y one-hot or a distribution);
/// dl/dp_i = -y_i / p_i.  p is clamped at the smallest normal number, so a
/// confident wrong answer costs about 87 (float) instead of infinity.
struct CrossEntropy {
    static constexpr const char* name() { return "CrossEntropy"; }
    static constexpr bool takes_probabilities = true;
    static constexpr Task task = Task::classification;
    template <class DP, class DY>
    static typename DP::Scalar sum(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y) {
        using S = typename DP::Scalar;
        return -(Y.array() * P.array().max(std::numeric_limits<S>::min()).log()).sum();
    }
    template <class DP, class DY, class S>
    static void gradient(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y, S scale, Matrix<S>& dP) {
        dP.array() = -scale * Y.array() / P.array().max(std::numeric_limits<S>::min());
    }
};

/// Per sample  l = (1/n) sum_i (p_i - y_i)^2  over the n outputs (the mean over all
/// elements, as in most frameworks);  dl/dp_i = 2 (p_i - y_i) / n.
struct MeanSquaredError {
    static constexpr const char* name() { return "MeanSquaredError"; }
    template <class DP, class DY>
    static typename DP::Scalar sum(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y) {
        using S = typename DP::Scalar;
        return (P - Y).squaredNorm() / static_cast<S>(P.rows());
    }
    template <class DP, class DY, class S>
    static void gradient(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y, S scale, Matrix<S>& dP) {
        dP.noalias() = (S(2) * scale / static_cast<S>(P.rows())) * (P - Y);
    }
};

/// Per sample  l = -(1/n) sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)]  over n
/// independent outputs;  dl/dp_i = (p_i - y_i) / (n p_i (1 - p_i)).
/// Clamped like CrossEntropy.
struct BinaryCrossEntropy {
    static constexpr const char* name() { return "BinaryCrossEntropy"; }
    static constexpr bool takes_probabilities = true;
    static constexpr Task task = Task::binary;  // several outputs: Task::multilabel
    template <class DP, class DY>
    static typename DP::Scalar sum(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y) {
        using S = typename DP::Scalar;
        constexpr S tiny = std::numeric_limits<S>::min();
        const S total = (Y.array() * P.array().max(tiny).log() +
                         (S(1) - Y.array()) * (S(1) - P.array()).max(tiny).log())
                            .sum();
        return -total / static_cast<S>(P.rows());
    }
    template <class DP, class DY, class S>
    static void gradient(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y, S scale, Matrix<S>& dP) {
        constexpr S tiny = std::numeric_limits<S>::min();
        const S s = scale / static_cast<S>(P.rows());
        dP.array() = s * (P.array() - Y.array()) / (P.array() * (S(1) - P.array())).max(tiny);
    }
};

/// An output activation and a loss whose combined gradient dl/dz is simpler and more
/// stable than the chain through both. The network checks this at compile time and,
/// when `value` is true, calls `apply` instead of Loss::gradient + Act::backward.
/// A trait open to users: specialise it for an output layer and loss of your own.
template <class Act, class L>
struct FusedGradient {
    static constexpr bool value = false;
};

/// softmax + cross-entropy:  dl/dz = p (sum_i y_i) - y,  which is p - y for one-hot
/// targets or any y whose column sums to 1 (the column sum keeps it exact otherwise).
template <>
struct FusedGradient<Softmax, CrossEntropy> {
    static constexpr bool value = true;
    template <class DP, class DY, class S>
    static void apply(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y, S scale, Matrix<S>& dZ) {
        for (Index j = 0; j < P.cols(); ++j) dZ.col(j) = scale * (Y.col(j).sum() * P.col(j) - Y.col(j));
    }
};

/// sigmoid + binary cross-entropy:  dl/dz_i = (p_i - y_i) / n.
template <>
struct FusedGradient<Sigmoid, BinaryCrossEntropy> {
    static constexpr bool value = true;
    template <class DP, class DY, class S>
    static void apply(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y, S scale, Matrix<S>& dZ) {
        dZ.noalias() = (scale / static_cast<S>(P.rows())) * (P - Y);
    }
};

}  // namespace scratchnet
