#pragma once
// Bytes to scalars, scaled: what every batch of 8-bit images goes through before
// layer 0 (training/batch_source.hpp). Compiled for AVX2 and AVX-512 in every
// x86-64 build and chosen at run time (isa.hpp), so a consumer's plain build
// converts 8 or 16 pixels an instruction too. Each entry is the exact conversion
// of its byte times the scale, rounded once, on every path: the bits never
// depend on the path.

#include "scratchnet/core.hpp"
#include "scratchnet/isa.hpp"
#include "scratchnet/kernels/targets.hpp"

#include <cstdint>
#include <type_traits>

namespace scratchnet::detail {

#ifdef SCRATCHNET_X86_KERNELS
namespace avx512 {
/// dst[i] = float(src[i]) * scale for i in [0, n), 16 at a time; returns how many it did.
SCRATCHNET_TARGET_AVX512 inline Index bytes_to_float(const std::uint8_t* src, Index n, float scale, float* dst) {
    const __m512 s = _mm512_set1_ps(scale);
    Index i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
        // The zero-masked forms, all lanes selected: the plain ones trip g++ 12's
        // PR 105593 (see gemm_avx512.hpp).
        const __m512i ints = _mm512_maskz_cvtepu8_epi32(__mmask16(0xFFFF), bytes);
        _mm512_storeu_ps(dst + i, _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(__mmask16(0xFFFF), ints), s));
    }
    return i;
}
}  // namespace avx512

namespace avx2 {
/// As avx512::bytes_to_float, 8 at a time.
SCRATCHNET_TARGET_AVX2 inline Index bytes_to_float(const std::uint8_t* src, Index n, float scale, float* dst) {
    const __m256 s = _mm256_set1_ps(scale);
    Index i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i));
        _mm256_storeu_ps(dst + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)), s));
    }
    return i;
}
}  // namespace avx2
#endif

/// dst[i] = T(src[i]) * scale for i in [0, n).
template <class T>
void bytes_to_scalars(const std::uint8_t* src, Index n, T scale, T* dst) {
    Index done = 0;
#ifdef SCRATCHNET_X86_KERNELS
    if constexpr (std::is_same_v<T, float>) {
        switch (active_isa()) {
            case Isa::avx512: done = avx512::bytes_to_float(src, n, scale, dst); break;
            case Isa::avx2: done = avx2::bytes_to_float(src, n, scale, dst); break;
            case Isa::portable: break;
        }
    }
#endif
    for (Index i = done; i < n; ++i) dst[i] = static_cast<T>(src[i]) * scale;
}

}  // namespace scratchnet::detail
