#pragma once
// Plain loops compiled for the instruction set the kernels run (isa.hpp).
//
// run_for_active_isa(f) calls f inlined into a function with the active set's
// target attribute, where the compiler vectorises f's loops with that set's
// registers: a consumer's plain build pools, masks and selects 16 floats an
// instruction on an AVX-512 machine, as a -march=native build does.
// run_with_vector_bytes(f) does the same and tells f the set's vector width, for
// loops written over SIMD vectors (packet_loop.hpp).
//
// Requires of f: loops whose every entry is computed on its own (selections,
// comparisons, sums and products of a few terms, integer hashing), no
// floating-point sum across entries, and no product added to another term in one
// expression (which a compiler may fuse into one FMA on one path and not another).
// The compiler keeps each entry's operations as written (no -ffast-math), so f
// gives the same bits on every path.

#include "scratchnet/isa.hpp"
#include "scratchnet/kernels/targets.hpp"

namespace scratchnet::detail {

#ifdef SCRATCHNET_X86_KERNELS
namespace avx512 {
template <class F>
[[gnu::flatten]] SCRATCHNET_TARGET_AVX512 inline void run(F& f) {
    f.template operator()<64>();
}
}  // namespace avx512
namespace avx2 {
template <class F>
[[gnu::flatten]] SCRATCHNET_TARGET_AVX2 inline void run(F& f) {
    f.template operator()<32>();
}
}  // namespace avx2
#endif

/// Calls f.template operator()<Bytes>() compiled for active_isa(), Bytes its
/// vector width (16 on the portable path: SSE2, or NEON); see the requirements above.
template <class F>
inline void run_with_vector_bytes(F&& f) {
#ifdef SCRATCHNET_X86_KERNELS
    switch (active_isa()) {
        case Isa::avx512: avx512::run(f); return;
        case Isa::avx2: avx2::run(f); return;
        case Isa::portable: break;
    }
#endif
    f.template operator()<16>();
}

/// Calls f() compiled for active_isa(); see the requirements above.
template <class F>
inline void run_for_active_isa(F&& f) {
    run_with_vector_bytes([&]<int>() { f(); });
}

}  // namespace scratchnet::detail
