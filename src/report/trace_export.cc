// The trace printers (trace_export.h). Times in the model are
// CLOCK_MONOTONIC ns; the summary shows durations through format_duration,
// the Chrome trace shows microseconds since the log's t0.
#include "report/trace_export.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/strings.h"

namespace coldstart::report {
namespace {

using namespace coldstart::trace;

std::string ms(double s) { return format_duration(s); }

// printf onto a string: the summary's column layout is printf's.
__attribute__((format(printf, 2, 3))) void appendf(std::string& out, const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  if (n > 0) {
    size_t at = out.size();
    out.resize(at + static_cast<size_t>(n) + 1);
    std::vsnprintf(out.data() + at, static_cast<size_t>(n) + 1, format, again);
    out.resize(at + static_cast<size_t>(n));
  }
  va_end(again);
}

}  // namespace

std::string trace_summary_text(const TraceLog& log, const TraceSummary& sum, const GoInitReport* go,
                               const std::string& spec, const GcSummary* gc) {
  std::string out;
  appendf(out, "%s: %s %s (backend %s)\n", log.program.c_str(), sum.reached_ready ? "ready after" : "no ready;",
              sum.reached_ready ? ms(sum.total_s).c_str() : (log.outcome + " after " + ms(sum.total_s)).c_str(),
              log.backend.c_str());
  if (sum.reached_ready) appendf(out, "ready: %s\n", spec.c_str());
  appendf(out, "\n%-13s %10s %10s %9s %9s %9s %9s %9s %9s %8s %11s %7s\n", "phase", "wall", "on-CPU", "disk",
              "network", "sleeping", "run-queue", "throttled", "other", "syscalls", "faults", "threads");
  for (const auto& p : sum.phases) {
    uint64_t calls = 0;
    for (const auto& [name, n] : p.syscalls) calls += n;
    auto off = [&](WaitCause c) { return ms(p.off_cpu_s[static_cast<size_t>(c)]); };
    appendf(out, "%-13s %10s %10s %9s %9s %9s %9s %9s %9s %8s %11s %7s\n", std::string(phase_name(p.phase)).c_str(),
                ms(p.wall_s).c_str(), ms(p.on_cpu_s).c_str(), off(WaitCause::kDisk).c_str(),
                off(WaitCause::kNetwork).c_str(), off(WaitCause::kSleep).c_str(), off(WaitCause::kRunQueue).c_str(),
                off(WaitCause::kThrottled).c_str(), off(WaitCause::kOther).c_str(), format_count(calls).c_str(),
                fmt::format("{}/{}", p.minor_faults, p.major_faults).c_str(),
                format_count(p.threads_created + p.processes_created).c_str());
  }
  appendf(out, "%-13s %10s\n", "total", ms(sum.total_s).c_str());
  if (gc != nullptr) {
    // The GC row: cycles up to ready, their stop-the-world pauses, their CPU.
    appendf(out, "%-13s %10s  %zu cycles, STW total %s, max %s%s (%s)\n", "gc", ms(gc->wall_s).c_str(), gc->cycles,
                ms(gc->stw_total_s).c_str(), ms(gc->stw_max_s).c_str(),
                gc->cpu_share ? fmt::format(", GC CPU {:.1f}% of the tree's", *gc->cpu_share * 100).c_str() : "",
                log.gc_cycles.empty() ? "no cycle before ready" : log.gc_cycles[0].source.c_str());
  }
  if (!sum.main_found) appendf(out, "(main not found: runtime-init and app-init are one phase, \"init\")\n");
  else appendf(out, "boundaries: entry point from the ELF header, %s from the %s\n", log.main_symbol.c_str(),
                   log.main_source == "libc argument" ? "first argument of __libc_start_main" : log.main_source.c_str());

  std::string summed;
  for (const auto& p : sum.phases)
    if (p.sums_exceed_wall) summed += (summed.empty() ? "" : ", ") + std::string(phase_name(p.phase));
  if (!summed.empty())
    appendf(out, "(on-CPU and waits are summed over threads: in %s they add up to more than the wall time)\n",
                summed.c_str());
  if (!sum.top_waits.empty()) {
    // The critical thread's waits: each delayed ready by its length.
    appendf(out, "\ntop waits of tid %d, the thread that %s (in all:", sum.critical_tid,
                sum.critical_why == "the root thread" ? "was started" : sum.critical_why.c_str());
    bool any = false;
    for (size_t c = 0; c < kWaitCauses; ++c)
      if (sum.critical_off_cpu_s[c] > 0) {
        appendf(out, "%s %s %s", any ? "," : "", std::string(wait_cause_name(static_cast<WaitCause>(c))).c_str(),
                    ms(sum.critical_off_cpu_s[c]).c_str());
        any = true;
      }
    appendf(out, "):\n");
    for (const auto& w : sum.top_waits)
      appendf(out, "  %9s  %-9s %-16s tid %-7d %s\n", ms(ns_to_s(w.end_ns - w.start_ns)).c_str(),
                  std::string(wait_cause_name(w.cause)).c_str(), w.syscall.empty() ? "-" : w.syscall.c_str(), w.tid,
                  std::string(phase_name(w.phase)).c_str());
  }
  for (const auto& p : sum.phases) {
    if (p.phase != Phase::kLoader || p.files.empty()) continue;
    appendf(out, "\nfiles opened by the loader:\n");
    for (const auto& f : p.files)
      appendf(out, "  +%-10s %9s  %s%s\n", ms(ns_to_s(f.start_ns - log.t0_ns)).c_str(), ms(ns_to_s(f.end_ns - f.start_ns)).c_str(),
                  f.path.c_str(), f.ok ? "" : "  (failed)");
  }
  std::map<std::string, uint64_t> calls;
  for (const auto& p : sum.phases)
    for (const auto& [name, n] : p.syscalls) calls[name] += n;
  std::vector<std::pair<std::string, uint64_t>> top(calls.begin(), calls.end());
  std::sort(top.begin(), top.end(), [](auto& a, auto& b) { return a.second > b.second; });
  if (!top.empty()) {
    appendf(out, "\nsyscalls:");
    for (size_t i = 0; i < top.size() && i < 8; ++i) appendf(out, " %s %s", top[i].first.c_str(), format_count(top[i].second).c_str());
    appendf(out, "\n");
  }
  if (go != nullptr) {
    std::vector<GoPackageInit> inits = go->inits;
    std::sort(inits.begin(), inits.end(), [](auto& a, auto& b) { return a.clock_s > b.clock_s; });
    appendf(out, "\nGo package init: %zu packages, %s in init functions, %s GC cycles during start-up\n",
                go->inits.size(), ms(go->total_init_s()).c_str(), format_count(go->gc_cycles).c_str());
    for (size_t i = 0; i < inits.size() && i < 5; ++i)
      appendf(out, "  %9s  %s\n", ms(inits[i].clock_s).c_str(), inits[i].package.c_str());
  }
  for (const auto& n : log.notes) appendf(out, "note: %s\n", n.c_str());
  return out;
}

ChromeTrace chrome_trace_of(const TraceLog& log, const TraceSummary& sum) {
  ChromeTrace ct;
  ct.pid = log.root_pid;
  ct.process_name = log.program;
  int64_t t0 = log.t0_ns, end = t0 + s_to_ns(sum.total_s);
  auto us = [t0](int64_t ns) { return static_cast<double>(ns - t0) / 1e3; };
  auto slice = [&](pid_t pid, pid_t tid, std::string name, std::string cat, int64_t a, int64_t b, nlohmann::json args) {
    a = std::max(a, t0), b = std::min(b, end);
    if (b < a) return;
    ct.slices.push_back({pid, tid, std::move(name), std::move(cat), us(a), static_cast<double>(b - a) / 1e3, std::move(args)});
  };
  ct.tracks.push_back({log.root_pid, 0, "phases", 0});
  std::set<std::pair<pid_t, pid_t>> threads{{log.root_pid, log.root_pid}};
  for (const auto& t : log.tasks) {
    if (t.kind == TaskEvent::Kind::kThread) threads.insert({t.pid, t.child_tid});
    if (t.kind == TaskEvent::Kind::kProcess) threads.insert({t.child_tid, t.child_tid});
  }
  int order = 1;
  for (auto [pid, tid] : threads)
    ct.tracks.push_back({pid, tid, (pid == tid ? "process " : "thread ") + std::to_string(tid), order++});
  for (const auto& p : sum.phases)
    slice(log.root_pid, 0, std::string(phase_name(p.phase)), "phase", p.start_ns, p.end_ns,
          {{"on_cpu_ms", p.on_cpu_s * 1e3}, {"minor_faults", p.minor_faults}, {"major_faults", p.major_faults}});
  for (const auto& s : log.syscalls) {
    nlohmann::json args = {{"ret", s.ret}};
    if (!s.path.empty()) args["path"] = s.path;
    slice(s.pid, s.tid, syscall_name(s.nr), "syscall", s.start_ns, s.end_ns, std::move(args));
  }
  if (!log.gc_cycles.empty()) {
    // One lane for the Go GC: the cycle, and its two stop-the-world pauses inside it.
    constexpr int kGcLane = 2147483000;
    ct.tracks.push_back({log.root_pid, kGcLane, "Go GC", order++});
    for (const GcCycle& c : log.gc_cycles) {
      nlohmann::json args = {{"source", c.source}};
      if (c.source == "gctrace") args["heap_start_mb"] = c.heap_start_bytes / 1048576.0, args["heap_goal_mb"] = c.heap_goal_bytes / 1048576.0;
      slice(log.root_pid, kGcLane, fmt::format("GC {}", c.number), "gc", c.start_ns, c.end_ns, std::move(args));
      slice(log.root_pid, kGcLane, "STW sweep termination", "gc", c.start_ns, c.sweep_term_end_ns, {});
      slice(log.root_pid, kGcLane, "STW mark termination", "gc", c.mark_term_start_ns, c.end_ns, {});
    }
  }
  for (const auto& o : log.off_cpu) {
    if (o.wake_ns > o.start_ns) slice(o.pid, o.tid, std::string(wait_cause_name(o.cause)), "wait", o.start_ns, o.wake_ns, {});
    if (o.end_ns > o.wake_ns) slice(o.pid, o.tid, "run-queue", "wait", o.wake_ns, o.end_ns, {});
  }
  return ct;
}

}  // namespace coldstart::report
