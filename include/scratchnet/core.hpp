#pragma once
// Vocabulary shared by every scratchnet header: matrix aliases, the seeded random
// generator and the Scalar concept. Each extension point's contract sits beside
// its code: layer.hpp, losses.hpp, optimizers/optimizer.hpp, training/trainer.hpp.
//
// Convention, stated once: a batch is a matrix with ONE SAMPLE PER COLUMN
// (features x batch). Eigen is column-major, so a sample is contiguous.

// One heap alignment for every translation unit, whatever its -march: Eigen
// otherwise picks it from the instruction set (16 bytes with SSE2, 32 with AVX,
// 64 with AVX-512) and frees by the matching rule, so a matrix allocated in a
// file built with -march=native and freed in a plain one corrupts the heap. 64
// suits every set. A file that includes Eigen before scratchnet must define it
// too; the CMake package defines it for every file that links scratchnet.
#ifndef EIGEN_MAX_ALIGN_BYTES
#define EIGEN_MAX_ALIGN_BYTES 64
#endif

// Eigen 3.4's AVX code declares unused variables, and GCC 12 warns about its own
// AVX-512 intrinsics (_mm512_undefined_ps reads itself: GCC bug 105593) wherever
// they are inlined; neither is the user's code, so a user's build stays quiet.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cmath>
#include <concepts>
#include <cstdint>
#include <numbers>

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

/// Images kept as bytes (features x samples, 0..255): a quarter of the memory of
/// floats; fit() and evaluate() scale them to [0, 1] as each batch is gathered.
using ByteMatrix = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>;

/// The library's random generator: the 64-bit Mersenne Twister, bit for bit the
/// sequence the standard specifies for std::mt19937_64 (its 10000th output from
/// the default seed is 9981545732273789042), written here so that <random> (a
/// fifth of a second of every compile) stays out of the headers. Every random
/// choice takes one explicitly; no global state. The distributions below are ours
/// too (std's are implementation-defined), so a seed gives the same weights with
/// every compiler and standard library. Meets UniformRandomBitGenerator.
class Rng {
public:
    using result_type = std::uint64_t;
    static constexpr result_type default_seed = 5489u;

    explicit Rng(result_type seed = default_seed) { this->seed(seed); }

    void seed(result_type s) {
        state_[0] = s;
        for (std::size_t i = 1; i < n; ++i)
            state_[i] = 6364136223846793005ULL * (state_[i - 1] ^ (state_[i - 1] >> 62)) + i;
        index_ = n;
    }

    result_type operator()() {
        if (index_ >= n) twist();
        result_type x = state_[index_++];
        x ^= (x >> 29) & 0x5555555555555555ULL;
        x ^= (x << 17) & 0x71D67FFFEDA60000ULL;
        x ^= (x << 37) & 0xFFF7EEE000000000ULL;
        x ^= x >> 43;
        return x;
    }

    void discard(unsigned long long z) {
        for (; z > 0; --z) (*this)();
    }

    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return ~result_type{0}; }

private:
    static constexpr std::size_t n = 312, m = 156;

    void twist() {
        constexpr result_type upper = 0xFFFFFFFF80000000ULL, lower = 0x7FFFFFFFULL, matrix = 0xB5026F5AA96619E9ULL;
        for (std::size_t i = 0; i < n; ++i) {
            const result_type y = (state_[i] & upper) | (state_[(i + 1) % n] & lower);
            state_[i] = state_[(i + m) % n] ^ (y >> 1) ^ ((y & 1U) != 0 ? matrix : 0);
        }
        index_ = 0;
    }

    result_type state_[n];
    std::size_t index_ = n;
};

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

}  // namespace scratchnet
