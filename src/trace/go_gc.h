// The Go GC during a start: cycles from the runtime's own gctrace lines or
// from uprobes at runtime functions, placed in the one event model
// (TraceLog::gc_cycles), and their summary for the phase table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trace/event_model.h"
#include "trace/go_inittrace.h"

namespace coldstart::trace {

/// The cycles of `report` that started before `end_ns`, placed on the
/// monotonic clock: gctrace's "@S" is seconds since the runtime started,
/// which is taken to be `runtime_start_ns` (the ELF entry point's instant).
std::vector<GcCycle> gc_cycles_from_gctrace(const GoInitReport& report, int64_t runtime_start_ns, int64_t end_ns);

/// The runtime functions that mark a GC cycle for the uprobes, by Go version
/// ("go1.19.8"): docs/go-under-limits.md lists them.
struct GcProbeSet {
  std::string gc_start;           // a cycle may begin (not every call starts one)
  std::string stop_the_world;     // STW begins (entry)
  std::string start_the_world;    // STW ends (probed after its nanotime1 call, target.cc)
  std::string mark_termination;   // once per cycle, in its second STW
  /// The CPU limiter's finishGCTransition (Go 1.19+): called right after
  /// tEnd in mark termination, so that pause ends where gctrace's does.
  std::string limiter_finish;
};
/// nullopt for versions whose runtime is not known to have this shape.
std::optional<GcProbeSet> gc_probe_set(const std::string& go_version);

/// One uprobe hit: which function, when, on which thread.
struct GcProbeHit {
  enum class Kind { kGcStart, kStop, kStart, kMarkTermination, kLimiterFinish } kind;
  int64_t ts_ns = 0;
};

/// Cycles from the uprobe hits in time order: each mark termination closes a
/// cycle whose mark-termination pause is the stop before it up to the
/// limiter's finish (else the start) after it, and whose sweep-termination
/// pause is the first stop/start pair after the gcStart that opened it. Unpaired hits (a stop for another reason,
/// a gcStart that found no work) are dropped.
/// A cycle still running at `end_ns` (the ready instant) is kept, cut there.
std::vector<GcCycle> gc_cycles_from_probes(const std::vector<GcProbeHit>& hits, int64_t end_ns);

/// The GC row of the phase table.
struct GcSummary {
  size_t cycles = 0;
  double stw_total_s = 0, stw_max_s = 0;
  double wall_s = 0;        // summed cycle wall time
  double cpu_s = 0;         // gctrace only
  std::optional<double> cpu_share;  // cpu_s / the tree's CPU time, when both are known
};
GcSummary summarize_gc(const std::vector<GcCycle>& cycles, std::optional<double> tree_cpu_s);

}  // namespace coldstart::trace
