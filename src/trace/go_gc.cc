// Go GC cycles in the event model, from two independent sources.
//
// gctrace (GODEBUG=gctrace=1, any backend): the runtime prints one line per
// cycle at the end of mark termination with the cycle's start relative to
// runtimeInitTime and the three wall-clock parts (sweep termination STW,
// concurrent mark, mark termination STW). runtimeInitTime is taken in
// runtime.main, a fraction of a millisecond after the ELF entry point; we
// place the runtime's start at the entry instant (or exec, or t0).
//
// uprobes (bpf): entry probes only. A uretprobe rewrites the return address
// on the stack, which the Go runtime's stack copying and tracebacks do not
// expect. Go 1.19-1.2x run a cycle as (runtime/mgc.go):
//   gcStart: tSweepTerm=now; stopTheWorldWithSema; ...; startTheWorldWithSema
//   (concurrent mark)
//   gcMarkDone: tMarkTerm=now; stopTheWorldWithSema; [restart: startTheWorld, goto top]
//   gcMarkTermination: ...; tEnd=now; ...; startTheWorldWithSema
//   (1.19: gcCPULimiter.finishGCTransition(now) after tEnd, before the last start)
// so a cycle is gcStart, then stop/start (sweep termination), then the last
// stop before gcMarkTermination up to the next start (mark termination).
// Where the pauses end: the "start" probe sits right after
// startTheWorldWithSema's call of nanotime1 (target.cc), where the runtime
// takes tMark; at the function's entry it missed the restart itself
// (netpoll, procresize, waking Ps: 10-20 µs here, 6-16% of the pause sums
// against gctrace). Mark termination ends at finishGCTransition, called just
// after tEnd; its start-the-world comes after more bookkeeping. (Ending the
// sweep pause at finishGCTransition too was tried: the thread is often
// descheduled between the restart and that call, adding 0.1-2 ms.)
#include "core/clock.h"
#include "trace/go_gc.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace coldstart::trace {

std::vector<GcCycle> gc_cycles_from_gctrace(const GoInitReport& report, int64_t runtime_start_ns, int64_t end_ns) {
  std::vector<GcCycle> out;
  auto ns = [](double s) { return s_to_ns(s); };
  for (const GoGcCycle& g : report.gcs) {
    GcCycle c;
    c.number = g.number;
    c.start_ns = runtime_start_ns + ns(g.start_s);
    if (c.start_ns >= end_ns) continue;
    c.sweep_term_end_ns = c.start_ns + ns(g.sweep_term_s);
    c.mark_term_start_ns = c.sweep_term_end_ns + ns(g.mark_s);
    c.end_ns = c.mark_term_start_ns + ns(g.mark_term_s);
    c.mark_cpu_s = g.assist_cpu_s + g.background_cpu_s + g.idle_cpu_s;
    c.cpu_s = g.cpu_s();
    c.heap_start_bytes = g.heap_start_bytes;
    c.heap_goal_bytes = g.heap_goal_bytes;
    c.source = "gctrace";
    out.push_back(c);
  }
  return out;
}

std::optional<GcProbeSet> gc_probe_set(const std::string& go_version) {
  unsigned major = 0, minor = 0;
  if (std::sscanf(go_version.c_str(), "go%u.%u", &major, &minor) != 2) return std::nullopt;
  // Only the sequence of Go 1.19's runtime/mgc.go is checked (Debian 12's Go);
  // other versions fall back to gctrace until theirs is (docs/go-under-limits.md).
  if (major != 1 || minor != 19) return std::nullopt;
  return GcProbeSet{"runtime.gcStart", "runtime.stopTheWorldWithSema", "runtime.startTheWorldWithSema",
                    "runtime.gcMarkTermination", "runtime.(*gcCPULimiterState).finishGCTransition"};
}

std::vector<GcCycle> gc_cycles_from_probes(const std::vector<GcProbeHit>& unsorted, int64_t end_ns) {
  std::vector<GcProbeHit> hits = unsorted;
  std::stable_sort(hits.begin(), hits.end(), [](const GcProbeHit& a, const GcProbeHit& b) { return a.ts_ns < b.ts_ns; });
  std::vector<GcCycle> out;
  enum class State { kIdle, kStarting, kSweepStw, kMarking, kMarkTermStw } state = State::kIdle;
  GcCycle cur;
  int64_t last_stop = 0;
  for (const GcProbeHit& h : hits) {
    using K = GcProbeHit::Kind;
    switch (h.kind) {
      case K::kLimiterFinish:
        if (state == State::kMarkTermStw && cur.end_ns == 0) cur.end_ns = h.ts_ns;
        break;
      case K::kGcStart:
        if (state == State::kIdle) state = State::kStarting;
        break;
      case K::kStop:
        last_stop = h.ts_ns;
        if (state == State::kStarting) {
          cur = GcCycle{};
          cur.start_ns = h.ts_ns;
          state = State::kSweepStw;
        }
        break;
      case K::kStart:
        if (state == State::kSweepStw) {
          cur.sweep_term_end_ns = h.ts_ns;
          state = State::kMarking;
        } else if (state == State::kMarkTermStw) {
          if (cur.end_ns == 0) cur.end_ns = h.ts_ns;
          cur.number = out.size() + 1;
          cur.source = "uprobes";
          out.push_back(cur);
          state = State::kIdle;
        }
        break;
      case K::kMarkTermination:
        if (state == State::kMarking) {
          cur.mark_term_start_ns = last_stop;
          state = State::kMarkTermStw;
        }
        break;
    }
  }
  // The cycle running at the end of the window: cut at end_ns.
  if (state != State::kIdle && state != State::kStarting && cur.start_ns < end_ns) {
    if (state == State::kSweepStw) cur.sweep_term_end_ns = end_ns;
    if (state == State::kSweepStw || state == State::kMarking) cur.mark_term_start_ns = end_ns;
    if (cur.end_ns == 0) cur.end_ns = end_ns;
    cur.number = out.size() + 1;
    cur.source = "uprobes";
    out.push_back(cur);
  }
  return out;
}

GcSummary summarize_gc(const std::vector<GcCycle>& cycles, std::optional<double> tree_cpu_s) {
  GcSummary s;
  bool cpu_known = false;
  for (const GcCycle& c : cycles) {
    ++s.cycles;
    for (int64_t p : {c.sweep_term_ns(), c.mark_term_ns()}) {
      s.stw_total_s += ns_to_s(p);
      s.stw_max_s = std::max(s.stw_max_s, ns_to_s(p));
    }
    s.wall_s += ns_to_s(c.end_ns - c.start_ns);
    s.cpu_s += c.cpu_s;
    cpu_known = cpu_known || c.source == "gctrace";
  }
  if (cpu_known && tree_cpu_s && *tree_cpu_s > 0) s.cpu_share = std::min(1.0, s.cpu_s / *tree_cpu_s);
  return s;
}

}  // namespace coldstart::trace
