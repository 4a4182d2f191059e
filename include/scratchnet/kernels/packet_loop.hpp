#pragma once
// Element-wise loops written once over SIMD vectors, run with the registers of
// the instruction set the CPU has, whatever flags the program was built with.
//
// The body is a generic lambda over the vector type P: GCC's and Clang's vector
// extension (`float __attribute__((vector_size(32)))`) gives +, -, *, comparisons
// and ?: lane by lane, the same operators plain scalars have, so one body serves
// full vectors, a half vector, and the last few entries, each entry computed by
// the same operations in the same order: the bits do not depend on where an entry
// falls, nor on the instruction set. for_each_packet runs the loop inside
// run_with_vector_bytes (dispatch.hpp), whose requirements the body meets.
//
// Why not leave the loops to the compiler? g++ 12 at -O2 (Debian's packages,
// CMake's RelWithDebInfo) vectorises a loop only where no scalar remainder is
// left, so the Winograd transforms' short rows (12, 48 or 337 entries) stayed
// scalar; and a consumer's build without -march would vectorise for SSE2 only.
// Vectors are loaded, stored and filled through references (simd_load,
// simd_store, simd_splat): a function returning a 32- or 64-byte vector by value
// would change the calling convention between paths, and g++ says so.

#include "scratchnet/core.hpp"
#include "scratchnet/kernels/dispatch.hpp"

#include <cstring>
#include <type_traits>

namespace scratchnet::detail {

#if defined(__GNUC__) || defined(__clang__)
#define SCRATCHNET_VECTOR_EXTENSION 1
/// The vector of T that is Bytes wide (8 to 64).
template <class T, int Bytes>
struct SimdOf;
#define SCRATCHNET_SIMD_OF(T, B) \
    template <>                  \
    struct SimdOf<T, B> {        \
        typedef T type __attribute__((vector_size(B))); \
    }
SCRATCHNET_SIMD_OF(float, 8);
SCRATCHNET_SIMD_OF(float, 16);
SCRATCHNET_SIMD_OF(float, 32);
SCRATCHNET_SIMD_OF(float, 64);
SCRATCHNET_SIMD_OF(double, 16);
SCRATCHNET_SIMD_OF(double, 32);
SCRATCHNET_SIMD_OF(double, 64);
#undef SCRATCHNET_SIMD_OF
template <class T, int Bytes>
using Simd = typename SimdOf<T, Bytes>::type;
#endif

/// v = the P at p (unaligned); P is a vector or the scalar itself.
template <class P, class T>
inline void simd_load(P& v, const T* p) {
    std::memcpy(&v, p, sizeof(P));
}
/// The P at p = v (unaligned).
template <class P, class T>
inline void simd_store(T* p, const P& v) {
    std::memcpy(p, &v, sizeof(P));
}
/// Every lane of v = x.
template <class P, class T>
inline void simd_splat(P& v, T x) {
    if constexpr (std::is_same_v<P, T>) {
        v = x;
    } else {
        for (std::size_t k = 0; k < sizeof(P) / sizeof(T); ++k) v[k] = x;
    }
}

/// The rest of a loop after its full vectors: one vector each of half, a quarter,
/// ... of Bytes where it fits, down to two lanes, then one scalar. (The Winograd
/// rows are short, 12 or 48 entries: 12 = 8 + 4 on AVX-512, no scalar left.)
template <class T, int Bytes, class Body>
inline void packet_tail(Index& done, Index n, Body& body) {
    if constexpr (Bytes / 2 >= 2 * static_cast<int>(sizeof(T))) {
        constexpr Index kLanes = Bytes / 2 / static_cast<int>(sizeof(T));
        if (n - done >= kLanes) {
            body.template operator()<Simd<T, Bytes / 2>>(done);
            done += kLanes;
        }
        packet_tail<T, Bytes / 2>(done, n, body);
    } else if (done < n) {
        body.template operator()<T>(done);
        ++done;
    }
}

/// Calls body.template operator()<P>(i) for i in [0, n), each call covering
/// entries [i, i + lanes of P): full vectors of Bytes, then the rest in ever
/// shorter vectors (packet_tail), the last entry alone. For code already inside
/// run_with_vector_bytes, which says what Bytes is.
template <class T, int Bytes, class Body>
inline void vector_loop(Index n, Body&& body) {
#ifdef SCRATCHNET_VECTOR_EXTENSION
    constexpr Index kFull = Bytes / static_cast<int>(sizeof(T));
    // Counts first, then loops over them from zero: with `i < n` loops picking
    // up where the previous one stopped, g++ 12 cannot bound the last one and
    // warns that a far iteration overflows (-Waggressive-loop-optimizations).
    const Index full = n / kFull;
    for (Index k = 0; k < full; ++k) body.template operator()<Simd<T, Bytes>>(k * kFull);
    Index done = full * kFull;
    packet_tail<T, Bytes>(done, n, body);
#else
    for (Index i = 0; i < n; ++i) body.template operator()<T>(i);
#endif
}

/// vector_loop at the width of the active instruction set, compiled for it.
template <class T, class Body>
inline void for_each_packet(Index n, Body&& body) {
    run_with_vector_bytes([&]<int Bytes>() { vector_loop<T, Bytes>(n, body); });
}

}  // namespace scratchnet::detail
