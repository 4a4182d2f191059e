#pragma once
// train_test_split(): samples (columns) drawn into a training and a test part,
// in scikit-learn's order of results:
//
//   auto [X_train, X_test, y_train, y_test] = sn::train_test_split(X, y, 0.2, /*seed*/ 1);
//
// The test part holds ceil(test_fraction * N) samples. With class labels the
// split is stratified: each class gives the test part its share of those samples
// (the shares' fractions go, largest first, to the classes they belong to), so
// both parts keep the classes' proportions. With a target matrix (regression)
// the samples are drawn without regard to targets. Each part keeps the samples'
// order in X; the seed alone decides which go where (the library's own
// generator, the same on every platform).

#include "scratchnet/core.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace scratchnet {

/// The two parts of a split; Y is Labels or a target matrix.
template <class X, class Y>
struct DataSplit {
    X X_train, X_test;
    Y y_train, y_test;
};

namespace detail {

inline Index test_count(Index n, double test_fraction) {
    if (!(test_fraction > 0 && test_fraction < 1))
        throw std::invalid_argument("train_test_split: test_fraction " + std::to_string(test_fraction) +
                                    " is not between 0 and 1");
    const auto k = static_cast<Index>(std::ceil(test_fraction * static_cast<double>(n)));
    if (k < 1 || k > n - 1)
        throw std::invalid_argument("train_test_split: " + std::to_string(n) + " samples cannot give a test part of " +
                                    std::to_string(test_fraction) + " and a training part, each not empty");
    return k;
}

template <class M>
M columns_of(const M& m, const std::vector<Index>& which) {
    M out(m.rows(), static_cast<Index>(which.size()));
    for (std::size_t k = 0; k < which.size(); ++k) out.col(static_cast<Index>(k)) = m.col(which[k]);
    return out;
}

inline Labels entries_of(const Labels& y, const std::vector<Index>& which) {
    Labels out(static_cast<Index>(which.size()));
    for (std::size_t k = 0; k < which.size(); ++k) out[static_cast<Index>(k)] = y[which[k]];
    return out;
}

/// Marks `in_test` for the samples drawn; returns nothing else.
inline std::vector<bool> stratified_draw(const Labels& y, Index test, std::uint64_t seed) {
    const Index n = y.size();
    std::vector<std::vector<Index>> by_class;
    for (Index j = 0; j < n; ++j) {
        if (y[j] < 0) throw std::invalid_argument("train_test_split: label " + std::to_string(y[j]) + " of sample " +
                                                  std::to_string(j) + " is negative");
        if (static_cast<std::size_t>(y[j]) >= by_class.size()) by_class.resize(static_cast<std::size_t>(y[j]) + 1);
        by_class[static_cast<std::size_t>(y[j])].push_back(j);
    }
    // Each class's exact share, floored; the samples left go to the largest remainders.
    const std::size_t classes = by_class.size();
    std::vector<Index> take(classes);
    std::vector<double> remainder(classes);
    Index given = 0;
    for (std::size_t c = 0; c < classes; ++c) {
        const double share = static_cast<double>(test) * static_cast<double>(by_class[c].size()) / static_cast<double>(n);
        take[c] = static_cast<Index>(std::floor(share));
        remainder[c] = share - static_cast<double>(take[c]);
        given += take[c];
    }
    std::vector<std::size_t> order(classes);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return remainder[a] > remainder[b]; });
    for (std::size_t k = 0; given < test && k < classes; ++k)
        if (take[order[k]] < static_cast<Index>(by_class[order[k]].size())) {
            ++take[order[k]];
            ++given;
        }
    Rng rng(seed);
    std::vector<bool> in_test(static_cast<std::size_t>(n), false);
    for (std::size_t c = 0; c < classes; ++c) {
        scratchnet::detail::shuffle(by_class[c].begin(), by_class[c].end(), rng);
        for (Index k = 0; k < take[c]; ++k) in_test[static_cast<std::size_t>(by_class[c][static_cast<std::size_t>(k)])] = true;
    }
    return in_test;
}

inline std::vector<bool> plain_draw(Index n, Index test, std::uint64_t seed) {
    std::vector<Index> all(static_cast<std::size_t>(n));
    std::iota(all.begin(), all.end(), Index{0});
    Rng rng(seed);
    scratchnet::detail::shuffle(all.begin(), all.end(), rng);
    std::vector<bool> in_test(static_cast<std::size_t>(n), false);
    for (Index k = 0; k < test; ++k) in_test[static_cast<std::size_t>(all[static_cast<std::size_t>(k)])] = true;
    return in_test;
}

inline void parts(const std::vector<bool>& in_test, std::vector<Index>& train, std::vector<Index>& test) {
    for (std::size_t j = 0; j < in_test.size(); ++j) (in_test[j] ? test : train).push_back(static_cast<Index>(j));
}

}  // namespace detail

/// Stratified split of samples X (features x N) with class labels y.
template <class Scalar>
DataSplit<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>, Labels> train_test_split(
    const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& X, const Labels& y, double test_fraction,
    std::uint64_t seed) {
    if (X.cols() != y.size())
        throw std::invalid_argument("train_test_split: " + std::to_string(X.cols()) + " samples but " +
                                    std::to_string(y.size()) + " labels");
    const std::vector<bool> in_test = detail::stratified_draw(y, detail::test_count(X.cols(), test_fraction), seed);
    std::vector<Index> train, test;
    detail::parts(in_test, train, test);
    return {detail::columns_of(X, train), detail::columns_of(X, test), detail::entries_of(y, train),
            detail::entries_of(y, test)};
}

/// Split of samples X (features x N) with targets Y (outputs x N), not stratified.
template <class Scalar, class TargetScalar>
DataSplit<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>,
          Eigen::Matrix<TargetScalar, Eigen::Dynamic, Eigen::Dynamic>>
train_test_split(const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& X,
                 const Eigen::Matrix<TargetScalar, Eigen::Dynamic, Eigen::Dynamic>& Y, double test_fraction,
                 std::uint64_t seed) {
    if (X.cols() != Y.cols())
        throw std::invalid_argument("train_test_split: " + std::to_string(X.cols()) + " samples but " +
                                    std::to_string(Y.cols()) + " target columns");
    const std::vector<bool> in_test = detail::plain_draw(X.cols(), detail::test_count(X.cols(), test_fraction), seed);
    std::vector<Index> train, test;
    detail::parts(in_test, train, test);
    return {detail::columns_of(X, train), detail::columns_of(X, test), detail::columns_of(Y, train),
            detail::columns_of(Y, test)};
}

}  // namespace scratchnet
