// Monotonic time in nanoseconds. All measured instants (t0 before spawn, the
// ready instant, trace events) use CLOCK_MONOTONIC so they compare with the
// kernel's bpf_ktime_get_ns() and with each other.
//
// Durations in options and records are one type, Duration (std::chrono
// nanoseconds). Values from outside (seconds the user typed, microseconds a
// service or cgroup reports) become one here, once, saturating; printers turn
// one into seconds (JSON) or µs/ms/s text (format_duration).
#pragma once

#include <time.h>

#include <chrono>
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

/// The one duration type of options and records.
using Duration = std::chrono::nanoseconds;

/// "No limit" (systemd's infinity): 2^62 ns, ~146 years, so `now + it` cannot overflow.
inline constexpr Duration kForever{int64_t{1} << 62};

/// Seconds (a parsed duration, a JSON figure) as a Duration, saturating like s_to_ns.
inline Duration seconds(double s) { return Duration(s_to_ns(s)); }

/// A Duration as seconds, for JSON and for arithmetic in seconds.
inline double to_seconds(Duration d) { return static_cast<double>(d.count()) / kNsPerSecond; }

/// Microseconds from outside (cgroup cpu.stat, sd_notify's *_USEC=, unit-file
/// spans) as a Duration, saturated at 2^52 µs like service_usec_to_ns.
inline Duration usec(uint64_t us) { return Duration(service_usec_to_ns(us)); }

/// A nanosecond count from outside (v1 cpu.stat's throttled_time), saturated at kForever.
inline Duration nsec(uint64_t ns) {
  return Duration(ns < static_cast<uint64_t>(kForever.count()) ? static_cast<int64_t>(ns) : kForever.count());
}

/// A Duration in whole microseconds, rounded down (cgroup cpu.max, WATCHDOG_USEC=).
inline uint64_t to_usec(Duration d) { return d.count() <= 0 ? 0 : static_cast<uint64_t>(d.count() / 1000); }

/// The time between two CLOCK_MONOTONIC instants.
inline Duration between(int64_t from_ns, int64_t to_ns) { return Duration(to_ns - from_ns); }

/// `now_ns + d`, with d capped at kForever.
inline int64_t after(int64_t now_ns, Duration d) { return now_ns + (d < kForever ? d : kForever).count(); }

}  // namespace coldstart
