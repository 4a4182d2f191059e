#pragma once
// Gathering a mini-batch: copy the columns named by a list of sample indices into a
// preallocated batch matrix, converting as needed. Data sets are never copied or
// reordered as a whole; only indices are shuffled.

#include "scratchnet/core.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace scratchnet {

/// Images kept as bytes (features x samples, 0..255): a quarter of the memory of
/// floats; scaled to [0, 1] as each batch is gathered.
using ByteMatrix = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>;

namespace detail {

template <class T>
void gather_inputs(const Matrix<T>& X, const Index* idx, Index n, Matrix<T>& out) {
    out.resize(X.rows(), n);
    for (Index j = 0; j < n; ++j) out.col(j) = X.col(idx[j]);
}

template <class T>
void gather_inputs(const ByteMatrix& X, const Index* idx, Index n, Matrix<T>& out) {
    out.resize(X.rows(), n);
    constexpr T scale = T(1) / T(255);
    for (Index j = 0; j < n; ++j) out.col(j) = X.col(idx[j]).template cast<T>() * scale;
}

template <class T>
void gather_targets(const Matrix<T>& Y, const Index* idx, Index n, Index /*classes*/, Matrix<T>& out) {
    out.resize(Y.rows(), n);
    for (Index j = 0; j < n; ++j) out.col(j) = Y.col(idx[j]);
}

/// One-hot encodes the labels of the chosen samples (ranges checked up front).
template <class T>
void gather_targets(const Labels& y, const Index* idx, Index n, Index classes, Matrix<T>& out) {
    out.setZero(classes, n);
    for (Index j = 0; j < n; ++j) out(y[idx[j]], j) = T(1);
}

template <class T>
Index sample_count(const Matrix<T>& M) { return M.cols(); }
inline Index sample_count(const ByteMatrix& M) { return M.cols(); }
inline Index sample_count(const Labels& y) { return y.size(); }

template <class T>
Index feature_count(const Matrix<T>& M) { return M.rows(); }
inline Index feature_count(const ByteMatrix& M) { return M.rows(); }

/// Throws unless targets fit a network with `classes` outputs.
template <class T>
void check_targets(const Matrix<T>& Y, Index classes, const char* who) {
    if (Y.rows() != classes)
        throw std::invalid_argument(std::string(who) + ": targets have " + std::to_string(Y.rows()) +
                                    " rows but the network has " + std::to_string(classes) + " outputs");
}
inline void check_targets(const Labels& y, Index classes, const char* who) {
    for (Index i = 0; i < y.size(); ++i)
        if (y[i] < 0 || y[i] >= classes)
            throw std::invalid_argument(std::string(who) + ": label " + std::to_string(y[i]) + " of sample " +
                                        std::to_string(i) + " is outside 0.." + std::to_string(classes - 1));
}

/// Throws unless inputs X and targets Y form a non-empty data set for Net.
template <class Net, class Inputs, class Targets>
void check_data(const Inputs& X, const Targets& Y, const std::string& who) {
    const Index n = sample_count(X);
    if (feature_count(X) != Net::input_size)
        throw std::invalid_argument(who + ": inputs have " + std::to_string(feature_count(X)) +
                                    " rows but the network takes " + std::to_string(Net::input_size));
    if (sample_count(Y) != n)
        throw std::invalid_argument(who + ": " + std::to_string(n) + " inputs but " +
                                    std::to_string(sample_count(Y)) + " targets");
    if (n == 0) throw std::invalid_argument(who + ": the data set is empty");
    check_targets(Y, Net::output_size, who.c_str());
}

/// Index of the largest entry of column j (the predicted or true class).
template <class D>
Index argmax_col(const Eigen::MatrixBase<D>& M, Index j) {
    Index k = 0;
    M.col(j).maxCoeff(&k);
    return k;
}

}  // namespace detail
}  // namespace scratchnet
