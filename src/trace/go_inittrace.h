// Go's start-up self-report: with GODEBUG=inittrace=1 the runtime prints one
// line per package init to stderr, with gctrace=1 one line per GC cycle.
// This parses those lines (untrusted text: fuzzed, fuzz/targets_trace.cmake).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coldstart::trace {

/// One "init <package> @<start> ms, <clock> ms clock, <bytes> bytes, <allocs> allocs" line.
struct GoPackageInit {
  std::string package;
  double start_s = 0;  // since the runtime started
  double clock_s = 0;  // wall time of the package's init functions
  uint64_t bytes = 0;
  uint64_t allocs = 0;
};

/// One gctrace=1 line (runtime/mgc.go, gcMarkTermination, Go 1.19-1.2x):
///   gc 3 @0.124s 16%: 0.016+136+0.003 ms clock, 0.032+1.9/67/64+0.007 ms cpu,
///   15->19->17 MB, 17 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
/// The clock triple is sweep termination (STW), concurrent mark, mark
/// termination (STW); the cpu figures are sweep termination, mark assist /
/// background / idle, mark termination; heaps at mark start -> mark end -> live.
struct GoGcCycle {
  uint64_t number = 0;
  double start_s = 0;  // since the runtime started (work.tSweepTerm)
  unsigned cpu_percent = 0;  // GC's share of CPU since the program started
  double sweep_term_s = 0, mark_s = 0, mark_term_s = 0;  // wall
  double sweep_term_cpu_s = 0, assist_cpu_s = 0, background_cpu_s = 0, idle_cpu_s = 0, mark_term_cpu_s = 0;
  uint64_t heap_start_bytes = 0, heap_end_bytes = 0, heap_live_bytes = 0, heap_goal_bytes = 0;
  unsigned procs = 0;
  bool forced = false;
  double wall_s() const { return sweep_term_s + mark_s + mark_term_s; }
  double stw_s() const { return sweep_term_s + mark_term_s; }
  double cpu_s() const { return sweep_term_cpu_s + assist_cpu_s + background_cpu_s + idle_cpu_s + mark_term_cpu_s; }
};

/// Parses one gctrace line (leading/trailing blanks ignored); false if it is not one.
bool parse_gctrace_line(std::string_view line, GoGcCycle& out);

/// What the Go runtime reported about its start.
struct GoInitReport {
  std::vector<GoPackageInit> inits;  // in the order the runtime ran them
  std::vector<GoGcCycle> gcs;        // gctrace lines in order
  uint64_t gc_cycles = 0;            // "gc N @..." lines
  double total_init_s() const;
};

/// Parses the lines of `text` it recognises and ignores every other line.
GoInitReport parse_go_inittrace(std::string_view text);

/// The GODEBUG value that turns both reports on, merged with an existing one.
std::string godebug_with_inittrace(std::string_view existing);

}  // namespace coldstart::trace
