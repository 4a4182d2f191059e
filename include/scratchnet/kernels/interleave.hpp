#pragma once
// Splitting a row into its even and odd entries, and joining them again: what
// Winograd's F(2x2, 3x3) does to every image and gradient row (kernels/winograd.hpp),
// so that each 2 x 2 output block's entries lie contiguously across the blocks.
//
// Why by hand? The rows are short (a 26-wide image row is 13 pairs), and at that
// length compilers leave the stride-2 loops scalar or vectorise only half of them;
// in float with AVX2 these take 16 entries per step with two shuffles, then 8
// in 128-bit halves, then the last few one by one. Elsewhere (double, a CPU
// without AVX2, other architectures) they are plain loops; every path moves the
// same values, so the choice changes no bits.

#include "scratchnet/core.hpp"
#include "scratchnet/isa.hpp"
#include "scratchnet/kernels/targets.hpp"

#include <type_traits>

namespace scratchnet::detail {

#ifdef SCRATCHNET_X86_KERNELS
namespace avx2 {

/// The even and odd entries of 16 consecutive ones, a and b: a0 a2 .. b6 and a1 a3 .. b7.
SCRATCHNET_TARGET_AVX2 inline void split16(__m256 a, __m256 b, __m256& even, __m256& odd) {
    // The shuffles give a0 a2 b0 b2 | a4 a6 b4 b6; the permute puts the 64-bit
    // pairs in order.
    even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
    odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

/// The 16 entries e0 o0 e1 o1 .. e7 o7 as two vectors.
SCRATCHNET_TARGET_AVX2 inline void join16(__m256 even, __m256 odd, __m256& first, __m256& second) {
    const __m256 lo = _mm256_unpacklo_ps(even, odd);  // e0 o0 e1 o1 | e4 o4 e5 o5
    const __m256 hi = _mm256_unpackhi_ps(even, odd);  // e2 o2 e3 o3 | e6 o6 e7 o7
    first = _mm256_permute2f128_ps(lo, hi, 0x20);
    second = _mm256_permute2f128_ps(lo, hi, 0x31);
}


/// split_even_odd's pairs [0, k) for a k it returns: as many as whole vectors take.
SCRATCHNET_TARGET_AVX2 inline Index split_pairs(const float* in, Index n, float* even, float* odd) {
    Index k = 0;
    for (; 2 * k + 16 <= n; k += 8) {
        __m256 e, o;
        split16(_mm256_loadu_ps(in + 2 * k), _mm256_loadu_ps(in + 2 * k + 8), e, o);
        _mm256_storeu_ps(even + k, e);
        _mm256_storeu_ps(odd + k, o);
    }
    if (2 * k + 8 <= n) {  // 4 pairs in 128-bit halves (masked stores are slow on some cores)
        const __m128 a = _mm_loadu_ps(in + 2 * k), b = _mm_loadu_ps(in + 2 * k + 4);
        _mm_storeu_ps(even + k, _mm_shuffle_ps(a, b, 0x88));
        _mm_storeu_ps(odd + k, _mm_shuffle_ps(a, b, 0xDD));
        k += 4;
    }
    return k;
}

/// join_even_odd's pairs [0, k) for a k it returns.
template <bool Add>
SCRATCHNET_TARGET_AVX2 inline Index join_pairs(const float* even, const float* odd, Index n, float* out) {
    Index k = 0;
    for (; 2 * k + 16 <= n; k += 8) {
        __m256 first, second;
        join16(_mm256_loadu_ps(even + k), _mm256_loadu_ps(odd + k), first, second);
        if constexpr (Add) {
            first = _mm256_add_ps(first, _mm256_loadu_ps(out + 2 * k));
            second = _mm256_add_ps(second, _mm256_loadu_ps(out + 2 * k + 8));
        }
        _mm256_storeu_ps(out + 2 * k, first);
        _mm256_storeu_ps(out + 2 * k + 8, second);
    }
    if (2 * k + 8 <= n) {
        const __m128 e = _mm_loadu_ps(even + k), o = _mm_loadu_ps(odd + k);
        __m128 first = _mm_unpacklo_ps(e, o), second = _mm_unpackhi_ps(e, o);
        if constexpr (Add) {
            first = _mm_add_ps(first, _mm_loadu_ps(out + 2 * k));
            second = _mm_add_ps(second, _mm_loadu_ps(out + 2 * k + 4));
        }
        _mm_storeu_ps(out + 2 * k, first);
        _mm_storeu_ps(out + 2 * k + 4, second);
        k += 4;
    }
    return k;
}

}  // namespace avx2
#endif

/// even[k] = in[2 k] and odd[k] = in[2 k + 1] for the n entries of in (even gets
/// the ceiling of n / 2 of them, odd the floor).
template <class T>
void split_even_odd(const T* in, Index n, T* even, T* odd) {
    Index k = 0;  // pairs done
#ifdef SCRATCHNET_X86_KERNELS
    if constexpr (std::is_same_v<T, float>)
        if (active_isa() != Isa::portable) k = avx2::split_pairs(in, n, even, odd);
#endif
    for (Index j = k; 2 * j < n; ++j) even[j] = in[2 * j];
    for (Index j = k; 2 * j + 1 < n; ++j) odd[j] = in[2 * j + 1];
}

/// The adjoint of split_even_odd, added: out[2 k] += even[k], out[2 k + 1] += odd[k]
/// for the n entries of out; or, with Add = false, written.
template <bool Add, class T>
void join_even_odd(const T* even, const T* odd, Index n, T* out) {
    Index k = 0;  // pairs done
#ifdef SCRATCHNET_X86_KERNELS
    if constexpr (std::is_same_v<T, float>)
        if (active_isa() != Isa::portable) k = avx2::join_pairs<Add>(even, odd, n, out);
#endif
    for (Index j = k; 2 * j < n; ++j) out[2 * j] = Add ? out[2 * j] + even[j] : even[j];
    for (Index j = k; 2 * j + 1 < n; ++j) out[2 * j + 1] = Add ? out[2 * j + 1] + odd[j] : odd[j];
}

}  // namespace scratchnet::detail
