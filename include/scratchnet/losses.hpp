#pragma once
// Losses as value/gradient pairs over a batch P (predictions) against Y (targets),
// both outputs x batch. `sum` adds the per-sample losses (the network divides by
// the batch size); `gradient` writes scale * d sum / dP, where the network passes
// scale = 1 / batch. Splitting a batch into chunks therefore adds up exactly.

#include "scratchnet/activations.hpp"
#include "scratchnet/core.hpp"

#include <limits>

namespace scratchnet {

/// Per sample  l = -sum_i y_i log p_i  (y one-hot or a distribution);
/// dl/dp_i = -y_i / p_i.  p is clamped at the smallest normal number, so a
/// confident wrong answer costs about 87 (float) instead of infinity.
struct CrossEntropy {
    static constexpr const char* name() { return "CrossEntropy"; }
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
