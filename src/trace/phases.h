// Phase attribution: from the raw TraceLog of either backend to the view the
// user reads, one row per phase (spawn -> loader -> runtime-init -> app-init,
// or spawn -> loader -> init without `main`).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "trace/event_model.h"

namespace coldstart::trace {

/// A file some syscall of the phase opened (or tried to).
struct FileOpen {
  std::string path;
  pid_t tid = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  bool ok = false;
};

/// One blocked interval worth showing (the longest ones).
struct Wait {
  pid_t tid = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  WaitCause cause = WaitCause::kOther;
  std::string syscall;  // empty when not in a syscall (e.g. a page fault)
  Phase phase = Phase::kSpawn;
};

/// PhaseStats is what one phase cost: wall and CPU time, off-CPU time by
/// cause (seconds), and the counts of what it did.
struct PhaseStats {
  Phase phase = Phase::kSpawn;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  double wall_s = 0;
  double on_cpu_s = 0;  // summed over threads: may exceed wall_s
  std::array<double, kWaitCauses> off_cpu_s{};
  std::map<std::string, uint64_t> syscalls;
  std::vector<FileOpen> files;
  uint64_t bytes_read = 0;
  uint64_t minor_faults = 0;
  uint64_t major_faults = 0;
  uint64_t threads_created = 0;
  uint64_t processes_created = 0;
  /// on-CPU + off-CPU, summed over threads, is more than the wall time (more
  /// than one thread was alive): the columns do not add up to `wall`.
  bool sums_exceed_wall = false;
};

/// TraceSummary is the per-phase view of one traced launch.
struct TraceSummary {
  std::vector<PhaseStats> phases;  // in order; phases never reached are absent
  double total_s = 0;              // t0 to ready (or to the end of the window)
  bool main_found = false;
  bool reached_ready = false;
  /// The thread whose waits delayed ready: the one that sent the last
  /// datagram (READY=1) before ready, else the first to listen(), else the root.
  pid_t critical_tid = 0;
  std::string critical_why;  // "sent READY=1", "listened first", "the root thread"
  /// The critical thread's waits of every kind (blocked by cause, run-queue,
  /// throttled) up to ready, longest first: each delayed ready by its length.
  std::vector<Wait> top_waits;
  /// The same thread's total waits by cause up to ready (seconds).
  std::array<double, kWaitCauses> critical_off_cpu_s{};
};

/// Derives the per-phase view. Phases are contiguous and their wall times sum
/// to total_s.
TraceSummary summarize(const TraceLog& log, size_t top_waits = 10);

/// The phase that contains `ts_ns` (the last one for later instants).
Phase phase_at(const TraceSummary& summary, int64_t ts_ns);

}  // namespace coldstart::trace
