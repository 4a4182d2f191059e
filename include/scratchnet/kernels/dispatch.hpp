#pragma once
// Plain loops compiled for the instruction set the kernels run (isa.hpp).
//
// run_for_active_isa(f) calls f inlined into a function with the active set's
// target attribute, where the compiler vectorises f's loops with that set's
// registers: a consumer's plain build pools, masks and selects 16 floats an
// instruction on an AVX-512 machine, as a -march=native build does.
//
// Requires of f: loops whose every entry is computed on its own (selections,
// comparisons, products, integer hashing), no floating-point sum across entries.
// The compiler keeps each entry's operations as written (no -ffast-math), so f
// gives the same bits on every path.

#include "scratchnet/isa.hpp"
#include "scratchnet/kernels/targets.hpp"

namespace scratchnet::detail {

#ifdef SCRATCHNET_X86_KERNELS
namespace avx512 {
template <class F>
[[gnu::flatten]] SCRATCHNET_TARGET_AVX512 inline void run(F& f) {
    f();
}
}  // namespace avx512
namespace avx2 {
template <class F>
[[gnu::flatten]] SCRATCHNET_TARGET_AVX2 inline void run(F& f) {
    f();
}
}  // namespace avx2
#endif

/// Calls f() compiled for active_isa(); see the requirements above.
template <class F>
inline void run_for_active_isa(F&& f) {
#ifdef SCRATCHNET_X86_KERNELS
    switch (active_isa()) {
        case Isa::avx512: avx512::run(f); return;
        case Isa::avx2: avx2::run(f); return;
        case Isa::portable: break;
    }
#endif
    f();
}

}  // namespace scratchnet::detail
