// JSON of a traced launch. Instants are relative to t0 (seconds) so a file
// never carries this machine's boot-relative clock; docs/trace.md is the schema.
#include "core/clock.h"
#include "trace/trace_json.h"

#include <map>

namespace coldstart::trace {
namespace {

using nlohmann::json;

json phase_json(const PhaseStats& p, int64_t t0) {
  json off = json::object();
  for (size_t c = 0; c < kWaitCauses; ++c) off[std::string(wait_cause_name(static_cast<WaitCause>(c)))] = p.off_cpu_s[c];
  json files = json::array();
  for (const auto& f : p.files)
    files.push_back({{"path", f.path}, {"tid", f.tid}, {"start_s", ns_to_s(f.start_ns - t0)},
                     {"end_s", ns_to_s(f.end_ns - t0)}, {"ok", f.ok}});
  return {{"name", phase_name(p.phase)}, {"start_s", ns_to_s(p.start_ns - t0)}, {"end_s", ns_to_s(p.end_ns - t0)},
          {"wall_s", p.wall_s}, {"on_cpu_s", p.on_cpu_s}, {"off_cpu_s", off}, {"syscalls", p.syscalls}, {"files", files},
          {"bytes_read", p.bytes_read}, {"minor_faults", p.minor_faults}, {"major_faults", p.major_faults},
          {"threads_created", p.threads_created}, {"processes_created", p.processes_created},
          {"sums_exceed_wall", p.sums_exceed_wall}};
}

std::string task_kind(TaskEvent::Kind k) {
  switch (k) {
    case TaskEvent::Kind::kThread: return "thread";
    case TaskEvent::Kind::kProcess: return "process";
    case TaskEvent::Kind::kExec: return "exec";
    case TaskEvent::Kind::kExit: return "exit";
  }
  return "?";
}

json events_json(const TraceLog& log) {
  int64_t t0 = log.t0_ns;
  auto rel = [t0](int64_t ns) { return ns_to_s(ns - t0); };
  json syscalls = json::array();
  for (const auto& s : log.syscalls) {
    json j = {{"pid", s.pid}, {"tid", s.tid}, {"name", syscall_name(s.nr)}, {"start_s", rel(s.start_ns)},
              {"duration_s", ns_to_s(s.end_ns - s.start_ns)}, {"ret", s.ret}};
    if (!s.path.empty()) j["path"] = s.path;
    if (s.socket) j["socket"] = true;
    syscalls.push_back(std::move(j));
  }
  json off = json::array();
  for (const auto& o : log.off_cpu) {
    json j = {{"pid", o.pid}, {"tid", o.tid}, {"start_s", rel(o.start_ns)}, {"wake_s", rel(o.wake_ns)},
              {"end_s", rel(o.end_ns)}, {"cause", wait_cause_name(o.cause)}};
    if (o.syscall_nr >= 0) j["syscall"] = syscall_name(o.syscall_nr);
    off.push_back(std::move(j));
  }
  json faults = json::array();
  for (const auto& f : log.major_faults)
    faults.push_back({{"pid", f.pid}, {"tid", f.tid}, {"start_s", rel(f.start_ns)}, {"address", f.address}});
  json tasks = json::array();
  for (const auto& t : log.tasks) {
    json j = {{"kind", task_kind(t.kind)}, {"pid", t.pid}, {"tid", t.tid}, {"at_s", rel(t.ts_ns)}};
    if (t.child_tid) j["child_tid"] = t.child_tid;
    if (t.kind == TaskEvent::Kind::kExit) j["exit_code"] = t.exit_code;
    if (!t.path.empty()) j["path"] = t.path;
    tasks.push_back(std::move(j));
  }
  return {{"syscalls", syscalls}, {"off_cpu", off}, {"major_faults", faults}, {"tasks", tasks}};
}

// One lane per thread: its lifetime in the window and its blocked intervals.
json threads_json(const TraceLog& log, const TraceSummary& summary) {
  int64_t t0 = log.t0_ns;
  int64_t end = t0 + s_to_ns(summary.total_s);
  std::map<pid_t, json> lanes;
  auto lane = [&](pid_t pid, pid_t tid, int64_t start) -> json& {
    auto [it, fresh] = lanes.try_emplace(tid);
    if (fresh)
      it->second = {{"tid", tid}, {"pid", pid}, {"name", tid == pid ? "process " + std::to_string(pid) : "thread " + std::to_string(tid)},
                    {"start_s", ns_to_s(start - t0)}, {"end_s", ns_to_s(end - t0)}, {"waits", json::array()}};
    return it->second;
  };
  lane(log.root_pid, log.root_pid, t0);
  for (const auto& t : log.tasks) {
    if (t.kind == TaskEvent::Kind::kThread) lane(t.pid, t.child_tid, t.ts_ns);
    if (t.kind == TaskEvent::Kind::kProcess) lane(t.child_tid, t.child_tid, t.ts_ns);
    if (t.kind == TaskEvent::Kind::kExit && t.ts_ns <= end) lane(t.pid, t.tid, t0)["end_s"] = ns_to_s(t.ts_ns - t0);
  }
  for (const auto& o : log.off_cpu) {
    if (o.start_ns >= end) continue;
    json& l = lane(o.pid, o.tid, t0);
    json w = {{"start_s", ns_to_s(o.start_ns - t0)}, {"end_s", ns_to_s(std::min(o.end_ns, end) - t0)},
              {"cause", wait_cause_name(o.cause)}};
    if (o.syscall_nr >= 0) w["syscall"] = syscall_name(o.syscall_nr);
    l["waits"].push_back(std::move(w));
  }
  json out = json::array();
  for (auto& [tid, l] : lanes) out.push_back(std::move(l));
  return out;
}

}  // namespace

nlohmann::json to_json(const TraceLog& log, const TraceSummary& summary, const GoInitReport* go) {
  int64_t t0 = log.t0_ns;
  auto mark = [t0](const std::optional<int64_t>& ns) -> json {
    return ns ? json(ns_to_s(*ns - t0)) : json(nullptr);
  };
  json phases = json::array();
  for (const auto& p : summary.phases) phases.push_back(phase_json(p, t0));
  json waits = json::array();
  for (const auto& w : summary.top_waits)
    waits.push_back({{"tid", w.tid}, {"start_s", ns_to_s(w.start_ns - t0)}, {"end_s", ns_to_s(w.end_ns - t0)},
                     {"cause", wait_cause_name(w.cause)}, {"syscall", w.syscall}, {"phase", phase_name(w.phase)}});
  json j = {{"program", log.program},
            {"backend", log.backend},
            {"pid", log.root_pid},
            {"ready", summary.reached_ready},
            {"outcome", log.outcome},
            {"total_s", summary.total_s},
            {"main_symbol", log.main_symbol.empty() ? json(nullptr) : json(log.main_symbol)},
            {"t0_monotonic_ns", t0},
            {"boundary_sources", {{"exec", log.backend == "bpf" ? "sched_process_exec" : "PTRACE_EVENT_EXEC"},
                                  {"entry", "ELF entry point (e_entry)"},
                                  {"main", log.main_source.empty() ? json(nullptr) : json(log.main_source)}}},
            {"libc_main_argument", log.libc_main_arg ? json(*log.libc_main_arg) : json(nullptr)},
            {"marks", {{"exec", mark(log.exec_ns)}, {"entry", mark(log.entry_ns)}, {"main", mark(log.main_ns)},
                       {"ready", mark(log.ready_ns)}, {"end", ns_to_s(log.end_ns - t0)}}},
            {"threads", threads_json(log, summary)},
            {"phases", phases},
            {"critical_thread", {{"tid", summary.critical_tid}, {"why", summary.critical_why}}},
            {"top_waits", waits},
            {"lost_events", log.lost_events},
            {"notes", log.notes},
            {"events", events_json(log)}};
  if (go != nullptr) {
    json inits = json::array();
    for (const auto& i : go->inits)
      inits.push_back({{"package", i.package}, {"start_s", i.start_s}, {"clock_s", i.clock_s},
                       {"bytes", i.bytes}, {"allocs", i.allocs}});
    j["go"] = {{"package_inits", inits}, {"total_init_s", go->total_init_s()}, {"gc_cycles", go->gc_cycles}};
  }
  return j;
}

json gc_json(const std::vector<GcCycle>& cycles, const GcSummary& s, int64_t t0) {
  json list = json::array();
  auto sec = [t0](int64_t ns) { return ns_to_s(ns - t0); };
  for (const GcCycle& c : cycles) {
    json one = {{"number", c.number},       {"start_s", sec(c.start_ns)},
                {"end_s", sec(c.end_ns)},    {"sweep_termination_s", ns_to_s(c.sweep_term_ns())},
                {"mark_s", ns_to_s(c.mark_term_start_ns - c.sweep_term_end_ns)},
                {"mark_termination_s", ns_to_s(c.mark_term_ns())}, {"source", c.source}};
    if (c.source == "gctrace") {
      one["mark_cpu_s"] = c.mark_cpu_s;
      one["cpu_s"] = c.cpu_s;
      one["heap_start_bytes"] = c.heap_start_bytes;
      one["heap_goal_bytes"] = c.heap_goal_bytes;
    }
    list.push_back(std::move(one));
  }
  return {{"cycles", s.cycles},
          {"stw_total_s", s.stw_total_s},
          {"stw_max_s", s.stw_max_s},
          {"wall_s", s.wall_s},
          {"cpu_s", s.cpu_s},
          {"cpu_share", s.cpu_share ? json(*s.cpu_share) : json(nullptr)},
          {"source", cycles.empty() ? json(nullptr) : json(cycles[0].source)},
          {"list", list}};
}

}  // namespace coldstart::trace
