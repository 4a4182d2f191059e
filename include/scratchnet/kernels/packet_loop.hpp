#pragma once
// Element-wise loops written once, run as SIMD packets at any optimisation level.
//
// Why not leave them to the compiler? g++ 12 at -O2 (the level of Debian's
// packages and of CMake's RelWithDebInfo) vectorises a loop only where no scalar
// remainder is left, so the Winograd transforms' short rows (12, 48 or 337
// entries) stayed scalar (the README's Performance section says what that
// cost). Here the body is a generic lambda over the packet type: Eigen's packet
// functions (ploadu, padd, psub, pstoreu, pset1) take its SIMD packets and plain
// scalars alike, so one body serves the full packets, a half packet, and the
// last few entries, each entry computed by the same operations in the same order:
// the bits do not depend on where an entry falls.

#include "scratchnet/core.hpp"

// g++ warns that a SIMD type (__m256) loses its alignment attributes as a
// template argument; the packets here are only ever values, never laid out in
// memory through the template, as in Eigen's own packet code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace scratchnet::detail {

/// Calls body.template operator()<P>(i) for i in [0, n), each call covering
/// entries [i, i + size of P): full packets of T, then one half packet where it
/// fits, then single scalars (P = T).
template <class T, class Body>
inline void for_each_packet(Index n, Body&& body) {
    using Full = typename Eigen::internal::packet_traits<T>::type;
    using Half = typename Eigen::internal::unpacket_traits<Full>::half;
    constexpr Index kFull = Eigen::internal::unpacket_traits<Full>::size;
    constexpr Index kHalf = Eigen::internal::unpacket_traits<Half>::size;
    // Counts first, then loops over them from zero: with `i < n` loops picking up
    // where the previous one stopped, g++ 12 cannot bound the last one and warns
    // that a far iteration overflows (-Waggressive-loop-optimizations).
    const Index full = kFull > 1 ? n / kFull : 0;
    for (Index k = 0; k < full; ++k) body.template operator()<Full>(k * kFull);
    Index done = full * kFull;
    if constexpr (kHalf > 1 && kHalf < kFull)
        if (n - done >= kHalf) {
            body.template operator()<Half>(done);
            done += kHalf;
        }
    const Index rest = n - done;
    for (Index k = 0; k < rest; ++k) body.template operator()<T>(done + k);
}

}  // namespace scratchnet::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
