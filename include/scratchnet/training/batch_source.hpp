#pragma once
// Gathering a mini-batch: copy the columns named by a list of sample indices into a
// preallocated batch matrix, converting as needed. Data sets are never copied or
// reordered as a whole; only indices are shuffled.
//
// A data set is any Eigen expression with one sample per column: a Matrix, a
// ByteMatrix, a Map over a user's buffer, X.leftCols(n). Targets are the same,
// or class labels: any int column vector (Labels, y.head(n)).

#include "scratchnet/core.hpp"
#include "scratchnet/kernels/convert.hpp"
#include "scratchnet/task.hpp"

#include <cmath>
#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace scratchnet::detail {

/// An Eigen matrix, map, block or expression (VectorBlock and friends derive
/// from DenseBase of another type, so this asks for the members, not the base).
template <class D>
concept EigenData = requires(const D& d) {
    typename D::Scalar;
    D::ColsAtCompileTime;
    d.rows();
    d.cols();
    d.col(0);
};

/// Class labels: an int column vector.
template <class D>
concept LabelData = EigenData<D> && std::same_as<typename D::Scalar, int> && D::ColsAtCompileTime == 1;

/// Inputs or targets of floating-point or byte values.
template <class D>
concept ValueData = EigenData<D> && (std::floating_point<typename D::Scalar> ||
                                     std::same_as<typename D::Scalar, std::uint8_t>);

template <class D>
constexpr bool check_inputs_type() {
    static_assert(ValueData<D>,
                  "scratchnet: inputs must be an Eigen matrix or expression of float, double or uint8_t "
                  "(ByteMatrix), one sample per column");
    return true;
}

template <class D>
constexpr bool check_targets_type() {
    static_assert(ValueData<D> || LabelData<D>,
                  "scratchnet: targets must be an Eigen matrix of float or double (outputs x samples) "
                  "or class labels (Labels, an int vector)");
    return true;
}

template <class D, class T>
void gather_inputs(const D& X, const Index* idx, Index n, Matrix<T>& out) {
    static_assert(check_inputs_type<D>());
    out.resize(X.rows(), n);
    if constexpr (std::is_same_v<typename D::Scalar, std::uint8_t>) {
        constexpr T scale = T(1) / T(255);
        constexpr bool columns_in_place =
            (int(D::Flags) & Eigen::DirectAccessBit) != 0 && (int(D::Flags) & Eigen::RowMajorBit) == 0;
        if constexpr (columns_in_place) {
            if (X.innerStride() == 1) {  // each column a run of bytes: the dispatched conversion
                for (Index j = 0; j < n; ++j)
                    bytes_to_scalars(X.data() + idx[j] * X.outerStride(), X.rows(), scale, out.col(j).data());
                return;
            }
        }
        for (Index j = 0; j < n; ++j) out.col(j) = X.col(idx[j]).template cast<T>() * scale;
    } else {
        for (Index j = 0; j < n; ++j) out.col(j) = X.col(idx[j]).template cast<T>();
    }
}

/// Targets of the chosen samples for a network with `outputs` outputs: copied, or
/// from labels one-hot encoded (several outputs) or as 0/1 (one output, binary).
/// Label ranges are checked up front by check_targets.
template <class D, class T>
void gather_targets(const D& Y, const Index* idx, Index n, Index outputs, Matrix<T>& out) {
    static_assert(check_targets_type<D>());
    if constexpr (LabelData<D>) {
        if (outputs == 1) {
            out.resize(1, n);
            for (Index j = 0; j < n; ++j) out(0, j) = T(Y[idx[j]]);
        } else {
            out.setZero(outputs, n);
            for (Index j = 0; j < n; ++j) out(Y[idx[j]], j) = T(1);
        }
    } else {
        out.resize(Y.rows(), n);
        for (Index j = 0; j < n; ++j) out.col(j) = Y.col(idx[j]).template cast<T>();
    }
}

template <class D>
Index sample_count(const D& M) {
    if constexpr (LabelData<D>)
        return M.size();
    else
        return M.cols();
}

/// Throws unless targets fit network Net.
template <class Net, class D>
void check_targets(const D& Y, const std::string& who) {
    static_assert(check_targets_type<D>());
    if constexpr (LabelData<D>) {
        static_assert(Net::task != Task::regression,
                      "scratchnet: a regression network (see Task) trains on a matrix of target values "
                      "(outputs x samples), not on class labels");
        static_assert(Net::task != Task::multilabel,
                      "scratchnet: a multi-label network (see Task) trains on a 0/1 target matrix (outputs x "
                      "samples: 1 where a label applies), not on Labels, which name one class per sample");
        constexpr Index classes = class_count(Net::task, Net::output_size);
        for (Index i = 0; i < Y.size(); ++i)
            if (Y[i] < 0 || Y[i] >= classes)
                throw std::invalid_argument(who + ": label " + std::to_string(Y[i]) + " of sample " +
                                            std::to_string(i) + " is outside 0.." + std::to_string(classes - 1));
    } else {
        if (Y.rows() != Net::output_size)
            throw std::invalid_argument(who + ": targets have " + std::to_string(Y.rows()) +
                                        " rows but the network has " + std::to_string(Net::output_size) + " outputs");
        if constexpr (Net::task == Task::multilabel) {
            for (Index j = 0; j < Y.cols(); ++j)
                for (Index i = 0; i < Y.rows(); ++i) {
                    const double v = static_cast<double>(Y(i, j));
                    if (!(v >= 0.0 && v <= 1.0))
                        throw std::invalid_argument(who + ": target " + std::to_string(i) + " of sample " +
                                                    std::to_string(j) + " is " + std::to_string(v) +
                                                    "; a multi-label network takes targets in [0, 1]");
                }
        }
    }
}

/// Throws unless inputs X and targets Y form a non-empty data set for Net.
template <class Net, class Inputs, class Targets>
void check_data(const Inputs& X, const Targets& Y, const std::string& who) {
    static_assert(check_inputs_type<Inputs>());
    const Index n = sample_count(X);
    if (X.rows() != Net::input_size)
        throw std::invalid_argument(who + ": inputs have " + std::to_string(X.rows()) +
                                    " rows but the network takes " + std::to_string(Net::input_size));
    if (sample_count(Y) != n)
        throw std::invalid_argument(who + ": " + std::to_string(n) + " inputs but " +
                                    std::to_string(sample_count(Y)) + " targets");
    if (n == 0) throw std::invalid_argument(who + ": the data set is empty");
    check_targets<Net>(Y, who);
}

/// Index of the first sample (column) of X among idx[0..n) holding a NaN or an
/// infinity, or -1. Bytes are always finite.
template <class D>
Index first_nonfinite_sample(const D& X, const Index* idx, Index n) {
    if constexpr (std::floating_point<typename D::Scalar>) {
        for (Index j = 0; j < n; ++j)
            if (!X.col(idx[j]).allFinite()) return idx[j];
    }
    return -1;
}

/// Every label of y as the target matrix fit() trains on (gather_targets over all
/// samples): for train_step and gradient_check, which take one whole batch.
template <class D, class T>
void encode_labels(const D& y, Index outputs, Matrix<T>& out) {
    std::vector<Index> all(static_cast<std::size_t>(y.size()));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<Index>(i);
    gather_targets(y, all.data(), y.size(), outputs, out);
}

}  // namespace scratchnet::detail
