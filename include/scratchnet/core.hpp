#pragma once
// Vocabulary shared by every scratchnet header: matrix aliases, the seeded random
// generator and the concepts that layers, losses and optimizers satisfy.
//
// Convention, stated once: a batch is a matrix with ONE SAMPLE PER COLUMN
// (features x batch). Eigen is column-major, so a sample is contiguous.

#include <Eigen/Core>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <numbers>
#include <random>

namespace scratchnet {

using Index = Eigen::Index;

/// Dynamic column-major matrix; a batch is (features x batch).
template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

/// Dynamic column vector.
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// Class labels, one per sample.
using Labels = Eigen::VectorXi;

/// The library's random generator. Every random choice takes one explicitly; no
/// global state. mt19937_64 is specified bit for bit by the standard, and the
/// distributions below are written here (std's are implementation-defined), so a
/// seed gives the same weights with every compiler and standard library.
using Rng = std::mt19937_64;

namespace detail {

/// Uniform double in [0, 1) from the top 53 bits.
inline double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// Uniform double in [lo, hi).
inline double uniform(Rng& rng, double lo, double hi) { return lo + (hi - lo) * uniform01(rng); }

/// Standard normal by Box-Muller (one value per call: simpler, and initialisation is not hot).
inline double normal(Rng& rng) {
    const double u1 = 1.0 - uniform01(rng);  // (0, 1]: log is finite
    const double u2 = uniform01(rng);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

/// Fisher-Yates with our own bounded draw, for the same reason as above.
template <class It>
void shuffle(It first, It last, Rng& rng) {
    const auto n = last - first;
    for (auto i = n - 1; i > 0; --i) {
        const auto j = static_cast<decltype(i)>(rng() % static_cast<std::uint64_t>(i + 1));
        std::swap(first[i], first[j]);
    }
}

}  // namespace detail

/// Floating-point scalar types the library is written for.
template <class T>
concept Scalar = std::same_as<T, float> || std::same_as<T, double>;

/// Loss: value and gradient over a batch of predictions P against targets Y
/// (both outputs x batch).
///   requires: P and Y have equal shapes.
///   ensures:  sum(P, Y) is the loss summed over columns (the mean is sum / batch);
///             gradient(P, Y, s, dP) writes s * d sum / dP into dP (sized by the caller).
template <class L>
concept Loss = requires(const Matrix<float>& P, Matrix<float>& dP) {
    { L::sum(P, P) } -> std::convertible_to<float>;
    L::gradient(P, P, 1.0f, dP);
    { L::name() } -> std::convertible_to<const char*>;
};

}  // namespace scratchnet
