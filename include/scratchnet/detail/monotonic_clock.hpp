#pragma once
// Seconds on the monotonic clock, for epoch timings and the pool's spin limit.
// This is the clock std::chrono::steady_clock reads on Linux, taken from
// <time.h> because <chrono> in libstdc++ 12 (C++20 calendars and time zones)
// is a large share of the compile time of every file that includes scratchnet.

#include <time.h>

namespace scratchnet::detail {

inline double monotonic_seconds() noexcept {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

}  // namespace scratchnet::detail
