// Data and networks that several test files share, the data made from fixed seeds
// so that a test sees the same bits on every run, and the short names CTest shows
// when a TEST_CASE_TEMPLATE runs over these networks. Each column is a sample.
//
// doctest names a templated test case "<name><<type>>", the type as the compiler
// spells it (hundreds of characters for a network) unless a
// TYPE_TO_STRING gives it a name. A type that several files run tests over gets
// its name here, so that all of them see the same one (two files that disagree
// break the one-definition rule: the linker keeps either name); a type that one
// file runs tests over gets it in that file.
#pragma once

#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include <array>
#include <cstdint>

namespace fixtures {

/// The course's network, 784-128-10: ReLU, softmax, cross-entropy.
template <class T>
using BasicCourse = scratchnet::BasicNetwork<T, scratchnet::Dense<784, 128>, scratchnet::ReLU,
                                             scratchnet::Dense<128, 10>, scratchnet::Softmax, scratchnet::CrossEntropy>;
using Course = BasicCourse<float>;

/// XOR's four inputs, (0, 0), (0, 1), (1, 0), (1, 1), and their labels 0, 1, 1, 0.
template <class T = float>
scratchnet::Matrix<T> xor_inputs() {
    scratchnet::Matrix<T> X(2, 4);
    X << 0, 0, 1, 1,  //
        0, 1, 0, 1;
    return X;
}

inline scratchnet::Labels xor_labels() {
    scratchnet::Labels y(4);
    y << 0, 1, 1, 0;
    return y;
}

/// Three classes of four inputs drawn uniformly from [-1, 1] (seed 11): class 2
/// where x0 + x1 > 0.5, else class 1 where x2 > 0, else class 0.
inline void three_classes(Eigen::Index n, scratchnet::Matrix<float>& X, scratchnet::Labels& y) {
    scratchnet::Rng rng(11);
    X.resize(4, n);
    y.resize(n);
    for (Eigen::Index j = 0; j < n; ++j) {
        for (Eigen::Index i = 0; i < 4; ++i) X(i, j) = static_cast<float>(scratchnet::detail::uniform(rng, -1, 1));
        y[j] = X(0, j) + X(1, j) > 0.5f ? 2 : X(2, j) > 0 ? 1 : 0;
    }
}

/// A small network for three_classes: 4-16-3, ReLU, softmax, cross-entropy.
using ThreeClassNet = scratchnet::Network<scratchnet::Dense<4, 16>, scratchnet::ReLU, scratchnet::Dense<16, 3>,
                                          scratchnet::Softmax, scratchnet::CrossEntropy>;

/// Two Gaussian blobs in the plane: where each class is centred, how far it
/// spreads (the standard deviation of each coordinate), and the seed.
struct Blobs {
    std::array<double, 2> centre_0, centre_1;
    double sigma = 1;
    std::uint64_t seed = 1;
};

/// n samples of two Gaussian blobs, alternating: sample j has class j % 2.
inline void two_blobs(Eigen::Index n, const Blobs& blobs, scratchnet::Matrix<float>& X, scratchnet::Labels& y) {
    scratchnet::Rng rng(blobs.seed);
    X.resize(2, n);
    y.resize(n);
    for (Eigen::Index j = 0; j < n; ++j) {
        y[j] = static_cast<int>(j % 2);
        const std::array<double, 2>& centre = y[j] == 0 ? blobs.centre_0 : blobs.centre_1;
        X(0, j) = static_cast<float>(centre[0] + blobs.sigma * scratchnet::detail::normal(rng));
        X(1, j) = static_cast<float>(centre[1] + blobs.sigma * scratchnet::detail::normal(rng));
    }
}

}  // namespace fixtures

TYPE_TO_STRING_AS("Course MLP", fixtures::Course);
TYPE_TO_STRING_AS("Course MLP in double", fixtures::BasicCourse<double>);
TYPE_TO_STRING_AS("three-class MLP", fixtures::ThreeClassNet);
