#pragma once
// Which instruction set scratchnet's own kernels run: chosen once at run time
// from the CPU, whatever flags the including program was built with.
//
// The kernels that carry the work (the single-precision GEMM and Winograd's
// products and row shuffles) are compiled for every instruction set below inside
// each build, as functions with a target attribute and a name per set
// (detail::avx2, detail::avx512), so a plain -O2 build runs AVX-512 code on a
// machine that has it and still runs on one that has not. On other
// architectures only `portable` exists (Eigen's own kernels).
//
// Bits: the AVX2 and AVX-512 GEMMs compute each element of a product as the same
// FMA chain over the depth and scale it the same way, so the two paths give the
// same bits; `portable` (Eigen's kernel, no FMA unless the build enables it)
// gives other bits. Every path gives the same bits for any thread or process count.
//
// Forcing a path: set SCRATCHNET_ISA=portable|avx2|avx512 in the environment,
// or call use_isa() before training. Asking for a set the CPU lacks is an error.

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace scratchnet {

/// An instruction set scratchnet's kernels are compiled for.
enum class Isa {
    portable,  ///< Eigen's kernels at the build's own flags
    avx2,      ///< x86-64 AVX2 with FMA
    avx512,    ///< x86-64 AVX-512 F, DQ, BW and VL (Skylake-SP, Ice Lake, Zen 4 and later)
};

/// "portable", "avx2" or "avx512".
inline const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::avx2: return "avx2";
        case Isa::avx512: return "avx512";
        default: return "portable";
    }
}

/// The best set this CPU runs (and its operating system enables).
inline Isa cpu_isa() {
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    // The four every AVX-512 CPU since Skylake-SP has; the kernels use all four.
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        return Isa::avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
#endif
    return Isa::portable;
}

/// Whether this CPU runs `isa`.
inline bool cpu_supports(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(cpu_isa()); }

namespace detail {

inline Isa isa_from_environment() {
    const char* value = std::getenv("SCRATCHNET_ISA");
    if (value == nullptr || *value == '\0') return cpu_isa();
    for (const Isa isa : {Isa::portable, Isa::avx2, Isa::avx512})
        if (std::strcmp(value, isa_name(isa)) == 0) {
            if (!cpu_supports(isa))
                throw std::runtime_error(std::string("scratchnet: SCRATCHNET_ISA=") + value + " but this CPU runs " +
                                         isa_name(cpu_isa()) + " at most");
            return isa;
        }
    throw std::runtime_error(std::string("scratchnet: SCRATCHNET_ISA=") + value +
                             " is not one of portable, avx2, avx512");
}

inline std::atomic<Isa>& isa_choice() {
    static std::atomic<Isa> choice{isa_from_environment()};
    return choice;
}

}  // namespace detail

/// The set the kernels run now: SCRATCHNET_ISA if set, else cpu_isa().
inline Isa active_isa() { return detail::isa_choice().load(std::memory_order_relaxed); }

/// Makes the kernels run `isa` from now on (throws std::invalid_argument if the
/// CPU lacks it). Call it before training: a network trained on two paths has
/// the bits of neither.
inline void use_isa(Isa isa) {
    if (!cpu_supports(isa))
        throw std::invalid_argument(std::string("scratchnet::use_isa: this CPU does not run ") + isa_name(isa) +
                                    " (it runs " + isa_name(cpu_isa()) + " at most)");
    detail::isa_choice().store(isa, std::memory_order_relaxed);
}

}  // namespace scratchnet
