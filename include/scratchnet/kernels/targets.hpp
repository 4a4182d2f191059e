#pragma once
// The target attributes of the kernels compiled for one instruction set each
// (isa.hpp). A function with one may be called only where active_isa() says the
// CPU runs that set.

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define SCRATCHNET_X86_KERNELS 1
#define SCRATCHNET_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define SCRATCHNET_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#include <immintrin.h>
#endif
