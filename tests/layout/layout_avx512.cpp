// Built with AVX-512 flags (never run as AVX-512 code: it only reports sizes).
#include "sizes.hpp"
#ifndef __AVX512F__
#error "this file is meant to be compiled with AVX-512 enabled"
#endif
std::array<std::size_t, 5> layout::avx512() { return sizes(); }
