// Monotonic time in nanoseconds. All measured instants (t0 before spawn, the
// ready instant, trace events) use CLOCK_MONOTONIC so they compare with the
// kernel's bpf_ktime_get_ns() and with each other.
#pragma once

#include <time.h>

#include <cstdint>

namespace coldstart {

inline int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline double ns_to_s(int64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace coldstart
