#pragma once
// Seconds on the monotonic clock, for epoch timings and the pool's spin limit,
// and a thread's processor time, for the pool's share of a busy machine.
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

/// Seconds of processor time the calling thread has used.
inline double thread_cpu_seconds() noexcept {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

}  // namespace scratchnet::detail
