// Phase attribution.
//
// Boundaries: t0 (spawn) | exec of the root | ELF entry point | main | ready.
// A boundary never observed (exit before main, no symbols) ends the phase
// list there; without `main` the two init phases are one ("init"). Every
// event belongs to the phase that contains its start; intervals (off-CPU
// waits, thread lifetimes) are clipped to each phase they overlap, so the
// waits of a phase never exceed its threads' time in it.
//
// Top waits: off-CPU time summed over threads says little about what made
// ready late: a Go start has idle Ps parked in futex for its whole length.
// What delayed ready is what held up the thread that made it ready: the one
// that sent a datagram (READY=1) last, within 5 ms before the ready instant, or the
// first to listen(), or the root. Its intervals split into the blocked part
// (by cause) and the part runnable but waiting for a CPU (run-queue, or the
// whole interval when CPU-throttled); every one of them delayed ready by its
// length, so they rank by length.
//
// On-CPU time: with context-switch events (bpf), a thread is on the CPU for
// its lifetime minus its off-CPU intervals; without them (ptrace), from the
// cumulative /proc/<tid>/schedstat samples the backend took at the boundaries
// (which also carry the fault counters then).
#include "core/clock.h"
#include "trace/phases.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>

namespace coldstart::trace {
namespace {

int64_t overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1) {
  return std::max<int64_t>(0, std::min(a1, b1) - std::max(a0, b0));
}

double secs(int64_t ns) { return ns_to_s(ns); }

bool is_open(const std::string& name) { return name == "open" || name == "openat" || name == "openat2"; }

bool is_file_read(const Syscall& s) {
  switch (s.nr) {
    case 0: case 17: case 19: case 295: case 327:  // read pread64 readv preadv preadv2
      return !s.socket && s.ret > 0;
  }
  return false;
}

std::vector<PhaseStats> boundaries(const TraceLog& log, int64_t end, bool main_found) {
  std::vector<std::pair<Phase, std::optional<int64_t>>> marks = {{Phase::kSpawn, log.t0_ns},
                                                                 {Phase::kLoader, log.exec_ns}};
  if (log.exec_ns) marks.push_back({main_found ? Phase::kRuntimeInit : Phase::kInit, log.entry_ns});
  if (log.exec_ns && main_found) marks.push_back({Phase::kAppInit, log.main_ns});
  std::vector<PhaseStats> phases;
  int64_t prev = log.t0_ns;
  for (auto& [phase, start] : marks) {
    if (!start) break;
    int64_t s = std::clamp(*start, prev, end);
    if (!phases.empty()) phases.back().end_ns = s;
    PhaseStats p;
    p.phase = phase;
    p.start_ns = s;
    phases.push_back(p);
    prev = s;
  }
  phases.back().end_ns = end;
  for (auto& p : phases) p.wall_s = secs(p.end_ns - p.start_ns);
  return phases;
}

size_t index_at(const std::vector<PhaseStats>& phases, int64_t ts) {
  for (size_t i = 0; i + 1 < phases.size(); ++i)
    if (ts < phases[i].end_ns) return i;
  return phases.size() - 1;
}

// Thread lifetimes [start, end) within the window, from fork/exit events.
std::unordered_map<pid_t, std::pair<int64_t, int64_t>> lifetimes(const TraceLog& log, int64_t end) {
  std::unordered_map<pid_t, std::pair<int64_t, int64_t>> life;
  life[log.root_pid] = {log.t0_ns, end};
  for (const auto& t : log.tasks) {
    if (t.kind == TaskEvent::Kind::kThread || t.kind == TaskEvent::Kind::kProcess)
      life[t.child_tid] = {t.ts_ns, end};
    else if (t.kind == TaskEvent::Kind::kExit && life.count(t.tid))
      life[t.tid].second = std::min(life[t.tid].second, t.ts_ns);
  }
  return life;
}

// A thread's cumulative counters at `ts`: the last sample at or before it,
// or its first sample (its baseline) before that.
const CpuSample* sample_at(const std::vector<const CpuSample*>& samples, int64_t ts) {
  const CpuSample* v = samples.front();
  for (const CpuSample* s : samples)
    if (s->ts_ns <= ts) v = s;
  return v;
}

// Without context-switch events: per-phase deltas of the sampled counters.
void add_from_samples(const TraceLog& log, std::vector<PhaseStats>& phases) {
  std::unordered_map<pid_t, std::vector<const CpuSample*>> by_tid;
  for (const auto& s : log.cpu_samples) by_tid[s.tid].push_back(&s);
  for (auto& [tid, samples] : by_tid) {
    std::sort(samples.begin(), samples.end(), [](auto* a, auto* b) { return a->ts_ns < b->ts_ns; });
    for (auto& p : phases) {
      const CpuSample* a = sample_at(samples, p.start_ns);
      const CpuSample* b = sample_at(samples, p.end_ns);
      p.on_cpu_s += secs(std::max<int64_t>(0, b->on_cpu_ns - a->on_cpu_ns));
      p.off_cpu_s[static_cast<size_t>(WaitCause::kRunQueue)] += secs(std::max<int64_t>(0, b->run_queue_ns - a->run_queue_ns));
      if (b->minor_faults > a->minor_faults) p.minor_faults += b->minor_faults - a->minor_faults;
      if (b->major_faults > a->major_faults) p.major_faults += b->major_faults - a->major_faults;
    }
  }
}

constexpr int kWrite = 1, kWritev = 20, kConnect = 42, kSendto = 44, kSendmsg = 46, kListen = 50, kSendmmsg = 307;

// Requires: `end` is the ready instant (or the end of the window).
std::pair<pid_t, std::string> critical_thread(const TraceLog& log, int64_t end) {
  const Syscall* sender = nullptr;
  const Syscall* listener = nullptr;
  for (const auto& s : log.syscalls) {
    if (s.start_ns < log.t0_ns || s.start_ns > end) continue;
    // READY=1 goes out as sendto/sendmsg, or (Go's DialUnix) connect + write
    // on the socket; the ptrace filter sees the connect, bpf both.
    bool send = s.nr == kSendto || s.nr == kSendmsg || s.nr == kSendmmsg ||
                ((s.nr == kWrite || s.nr == kWritev || s.nr == kConnect) && s.socket);
    if (send && s.ret >= 0 && (sender == nullptr || s.end_ns > sender->end_ns)) sender = &s;
    if (s.nr == kListen && s.ret == 0 && (listener == nullptr || s.start_ns < listener->start_ns)) listener = &s;
  }
  if (sender != nullptr && log.ready_ns && *log.ready_ns - sender->end_ns < 5'000'000)
    return {sender->tid, "sent READY=1"};
  if (listener != nullptr) return {listener->tid, "listened first"};
  return {log.root_pid, "the root thread"};
}

}  // namespace

TraceSummary summarize(const TraceLog& log, size_t top_waits) {
  TraceSummary sum;
  int64_t end = log.ready_ns.value_or(log.end_ns);
  end = std::max(end, log.t0_ns);
  sum.main_found = !log.main_symbol.empty();
  sum.reached_ready = log.ready_ns.has_value();
  sum.total_s = secs(end - log.t0_ns);
  sum.phases = boundaries(log, end, sum.main_found);
  auto& phases = sum.phases;

  for (const auto& s : log.syscalls) {
    if (s.start_ns > end || s.start_ns < log.t0_ns) continue;
    PhaseStats& p = phases[index_at(phases, s.start_ns)];
    std::string name = syscall_name(s.nr);
    if (is_open(name) && !s.path.empty()) p.files.push_back({s.path, s.tid, s.start_ns, s.end_ns, s.ret >= 0});
    if (log.syscalls_counted) continue;  // counted in the kernel: added below
    ++p.syscalls[name];
    if (is_file_read(s)) p.bytes_read += static_cast<uint64_t>(s.ret);
  }
  if (log.syscalls_counted) {
    for (auto& p : phases) {
      auto add = [&](size_t backend_phase) {
        for (const auto& [nr, n] : log.syscall_counts[backend_phase]) p.syscalls[syscall_name(nr)] += n;
        p.bytes_read += log.file_bytes_read[backend_phase];
      };
      if (p.phase == Phase::kInit) add(2), add(3);
      else add(static_cast<size_t>(p.phase));
    }
  }
  for (const auto& f : log.major_faults)
    if (f.start_ns >= log.t0_ns && f.start_ns <= end) ++phases[index_at(phases, f.start_ns)].major_faults;
  for (const auto& t : log.tasks) {
    if (t.ts_ns < log.t0_ns || t.ts_ns > end) continue;
    PhaseStats& p = phases[index_at(phases, t.ts_ns)];
    if (t.kind == TaskEvent::Kind::kThread) ++p.threads_created;
    if (t.kind == TaskEvent::Kind::kProcess) ++p.processes_created;
  }
  // Minor faults come per backend phase (spawn, loader, runtime-init, app-init).
  for (auto& p : phases) {
    switch (p.phase) {
      case Phase::kInit: p.minor_faults = log.minor_faults[2] + log.minor_faults[3]; break;
      default: p.minor_faults = log.minor_faults[static_cast<size_t>(p.phase)]; break;
    }
  }

  // Off-CPU time by cause, clipped to phases; the critical thread's waits.
  std::tie(sum.critical_tid, sum.critical_why) = critical_thread(log, end);
  std::vector<Wait> waits;
  for (const auto& o : log.off_cpu) {
    for (auto& p : phases) {
      p.off_cpu_s[static_cast<size_t>(o.cause)] += secs(overlap(o.start_ns, o.wake_ns, p.start_ns, p.end_ns));
      p.off_cpu_s[static_cast<size_t>(WaitCause::kRunQueue)] +=
          secs(overlap(o.wake_ns, o.end_ns, p.start_ns, p.end_ns));
    }
    if (o.tid != sum.critical_tid || o.start_ns >= end) continue;
    std::string call = o.syscall_nr >= 0 ? syscall_name(o.syscall_nr) : "";
    auto add = [&](int64_t a, int64_t b, WaitCause cause) {
      a = std::max(a, log.t0_ns), b = std::min(b, end);
      if (b <= a) return;
      sum.critical_off_cpu_s[static_cast<size_t>(cause)] += secs(b - a);
      waits.push_back({o.tid, a, b, cause, call, phases[index_at(phases, a)].phase});
    };
    add(o.start_ns, o.wake_ns, o.cause);          // blocked (a throttled interval has wake == end)
    add(o.wake_ns, o.end_ns, WaitCause::kRunQueue);  // runnable, waiting for a CPU
  }
  std::sort(waits.begin(), waits.end(),
            [](const Wait& a, const Wait& b) { return a.end_ns - a.start_ns > b.end_ns - b.start_ns; });
  if (waits.size() > top_waits) waits.resize(top_waits);
  sum.top_waits = std::move(waits);

  if (log.has_off_cpu) {
    for (const auto& [tid, life] : lifetimes(log, end))
      for (auto& p : phases) p.on_cpu_s += secs(overlap(life.first, life.second, p.start_ns, p.end_ns));
    for (const auto& o : log.off_cpu)
      for (auto& p : phases) p.on_cpu_s -= secs(overlap(o.start_ns, o.end_ns, p.start_ns, p.end_ns));
    for (auto& p : phases) p.on_cpu_s = std::max(0.0, p.on_cpu_s);
  } else {
    for (auto& p : phases) p.minor_faults = p.major_faults = 0;
    add_from_samples(log, phases);
  }
  for (auto& p : phases) {
    double all = p.on_cpu_s;
    for (double w : p.off_cpu_s) all += w;
    p.sums_exceed_wall = all > p.wall_s * 1.01 + 1e-6;
  }
  return sum;
}

Phase phase_at(const TraceSummary& summary, int64_t ts_ns) {
  return summary.phases[index_at(summary.phases, ts_ns)].phase;
}

}  // namespace coldstart::trace
