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

inline constexpr int64_t kNsPerSecond = 1000000000;

inline double ns_to_s(int64_t ns) { return static_cast<double>(ns) / kNsPerSecond; }

/// Seconds (a parsed duration) as nanoseconds, saturated at 2^62 ns (~146
/// years) so that `now + it` cannot overflow; negative and NaN give 0.
inline int64_t s_to_ns(double s) {
  constexpr double kMax = static_cast<double>(int64_t{1} << 62);
  if (!(s > 0)) return 0;
  double ns = s * kNsPerSecond;
  return ns >= kMax ? int64_t{1} << 62 : static_cast<int64_t>(ns + 0.5);
}

/// Microseconds (cgroup's cpu.stat, rusage, unit-file time spans, Chrome
/// trace timestamps) as seconds.
inline double us_to_s(double us) { return us / 1e6; }

/// Seconds as whole microseconds (cgroup's cpu.max), rounded, saturated at
/// 2^62; negative and NaN give 0.
inline uint64_t s_to_us(double s) {
  constexpr double kMax = static_cast<double>(uint64_t{1} << 62);
  if (!(s > 0)) return 0;
  double us = s * 1e6;
  return us >= kMax ? uint64_t{1} << 62 : static_cast<uint64_t>(us + 0.5);
}

/// A microsecond count a service sent (sd_notify's EXTEND_TIMEOUT_USEC=,
/// WATCHDOG_USEC=) as nanoseconds, saturated at 2^52 us (~146 years, what
/// systemd treats as infinity) so that `now + it` cannot overflow.
inline int64_t service_usec_to_ns(uint64_t us) {
  constexpr uint64_t kMaxUs = uint64_t{1} << 52;
  return static_cast<int64_t>(us < kMaxUs ? us : kMaxUs) * 1000;
}

}  // namespace coldstart
