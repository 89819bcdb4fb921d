// Reading trace and run JSON into the views the report draws.
//
// Two trace shapes are read:
//  * coldstart's trace JSON: "phases" [{name, start_s, end_s, on_cpu_s,
//    off_cpu_s {cause: s}, syscalls {name: count}, files [...]}], optional
//    "threads" [{tid, name, start_s, end_s, waits [...]}] and "top_waits" /
//    "waits" [{tid, start_s, end_s, cause, syscall}]. Without "threads", the
//    lanes are the threads that the waits name.
//  * the Chrome Trace Event format ({"traceEvents": [...]}, what
//    `trace --chrome-trace` writes): complete events (ph "X", ts/dur in µs)
//    with cat "phase" are phases, others are waits on their tid's lane, and
//    thread_name metadata events name the lanes.
// Top lists: files by time spent opening/reading them (or by count), shared
// libraries are the files whose name has ".so", syscalls by count.
#include "core/clock.h"
#include "report/trace_view.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"
#include "report/json_fields.h"

namespace coldstart::report {
namespace {

using nlohmann::json;

double time_of(const json& obj, std::initializer_list<std::string_view> keys, const JsonAt& at, double fallback) {
  return opt_number(obj, keys, at).value_or(fallback);
}

int64_t tid_of(const json& obj, const JsonAt& at) {
  double v = opt_number(obj, {"tid", "pid"}, at).value_or(0);
  // Thread ids fit in 32 bits (pid_max <= 2^22); a cast of anything far larger is undefined (found by the fuzzer).
  if (!(std::fabs(v) < 2147483648.0)) json_error(at, "has a tid out of range");
  return static_cast<int64_t>(v);
}

TraceWait wait_from_json(const json& w, const JsonAt& at) {
  expect_object(w, at);
  TraceWait out;
  out.start = time_of(w, {"start_s", "start"}, at, 0);
  out.end = time_of(w, {"end_s", "end"}, at, out.start);
  if (auto d = opt_number(w, {"duration_s", "seconds"}, at); d && out.end == out.start) out.end = out.start + *d;
  out.cause = opt_string(w, "cause", at);
  if (out.cause.empty()) out.cause = "other";
  out.detail = opt_string(w, "syscall", at);
  return out;
}

TraceThread& lane(std::map<int64_t, TraceThread>& lanes, int64_t tid) {
  TraceThread& t = lanes[tid];
  t.tid = tid;
  return t;
}

// libc.so.6, ld-linux-x86-64.so.2, libfoo.so - but not /etc/ld.so.cache.
bool is_shared_library(std::string_view path) {
  std::string_view base = path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
  size_t so = base.find(".so");
  if (so == std::string_view::npos) return false;
  std::string_view rest = base.substr(so + 3);
  return rest.empty() || (rest[0] == '.' && rest.find_first_not_of(".0123456789") == std::string_view::npos);
}

void add_ranked(std::map<std::string, std::pair<double, uint64_t>>& acc, const std::string& name, double seconds) {
  auto& [s, n] = acc[name];
  s += seconds;
  n += 1;
}

std::vector<RankedItem> top_of(const std::map<std::string, std::pair<double, uint64_t>>& acc, bool by_time) {
  std::vector<RankedItem> out;
  for (const auto& [name, v] : acc) {
    double value = by_time ? v.first : static_cast<double>(v.second);
    std::string text = by_time ? format_duration(v.first) + fmt::format(" ({}×)", v.second)
                               : fmt::format("{} call{}", v.second, v.second == 1 ? "" : "s");
    out.push_back({name, value, text});
  }
  std::sort(out.begin(), out.end(), [](const RankedItem& a, const RankedItem& b) { return a.value > b.value; });
  if (out.size() > 12) out.resize(12);
  return out;
}

std::vector<RankedItem> ranked_list(const json& arr, const JsonAt& at) {
  std::vector<RankedItem> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    JsonAt a = at.index(i);
    expect_object(arr[i], a);
    RankedItem r;
    r.name = opt_string(arr[i], "name", a);
    if (r.name.empty()) r.name = opt_string(arr[i], "path", a);
    if (auto s = opt_number(arr[i], {"seconds", "duration_s"}, a)) {
      r.value = *s;
      r.text = format_duration(*s);
    } else {
      r.value = opt_number(arr[i], {"count", "calls"}, a).value_or(0);
      r.text = fmt::format("{}", static_cast<uint64_t>(r.value));
    }
    out.push_back(std::move(r));
  }
  return out;
}

void read_native(const json& doc, const JsonAt& root, TraceView& v) {
  v.program = opt_string(doc, "program", root);
  v.backend = opt_string(doc, "backend", root);
  std::string outcome = opt_string(doc, "outcome", root);
  v.reached_ready = outcome.empty() || outcome == "ready";
  if (auto it = doc.find("ready"); it != doc.end() && it->is_boolean()) v.reached_ready = it->get<bool>();
  std::map<int64_t, TraceThread> lanes;
  std::map<std::string, std::pair<double, uint64_t>> files, libraries, syscalls;
  const json* phases = opt_array(doc, "phases", root);
  for (size_t i = 0; phases && i < phases->size(); ++i) {
    const json& p = (*phases)[i];
    JsonAt at = root.key("phases").index(i);
    expect_object(p, at);
    TracePhase ph;
    ph.name = opt_string(p, "name", at);
    if (ph.name.empty()) ph.name = opt_string(p, "phase", at);
    ph.start = time_of(p, {"start_s", "start"}, at, i ? v.phases.back().end : 0);
    ph.end = time_of(p, {"end_s", "end"}, at, ph.start + opt_number(p, {"wall_s"}, at).value_or(0));
    ph.on_cpu = opt_number(p, {"on_cpu_s"}, at).value_or(0);
    if (const json* off = opt_object(p, "off_cpu_s", at))
      for (const auto& [cause, secs] : off->items())
        if (secs.is_number() && secs.get<double>() > 0) ph.off_cpu.emplace_back(cause, secs.get<double>());
    if (const json* calls = opt_object(p, "syscalls", at))
      for (const auto& [name, n] : calls->items())
        if (n.is_number()) syscalls[name].second += n.get<uint64_t>();
    if (const json* fl = opt_array(p, "files", at)) {
      for (size_t k = 0; k < fl->size(); ++k) {
        const json& f = (*fl)[k];
        std::string path = f.is_string() ? f.get<std::string>() : opt_string(f, "path", at.key("files").index(k));
        double secs = f.is_object() ? time_of(f, {"end_s", "end"}, at, 0) - time_of(f, {"start_s", "start"}, at, 0)
                                    : 0;
        add_ranked(is_shared_library(path) ? libraries : files, path, std::max(secs, 0.0));
      }
    }
    v.phases.push_back(std::move(ph));
  }
  if (const json* threads = opt_array(doc, "threads", root)) {
    for (size_t i = 0; i < threads->size(); ++i) {
      const json& t = (*threads)[i];
      JsonAt at = root.key("threads").index(i);
      expect_object(t, at);
      TraceThread& th = lane(lanes, tid_of(t, at));
      th.name = opt_string(t, "name", at);
      th.start = time_of(t, {"start_s", "start"}, at, 0);
      th.end = time_of(t, {"end_s", "end"}, at, -1);
      if (const json* ws = opt_array(t, "waits", at))
        for (size_t k = 0; k < ws->size(); ++k) th.waits.push_back(wait_from_json((*ws)[k], at.key("waits").index(k)));
    }
  }
  for (const char* key : {"waits", "top_waits"}) {
    const json* ws = opt_array(doc, key, root);
    if (!ws || (key == std::string_view("top_waits") && !lanes.empty() && opt_array(doc, "threads", root))) continue;
    for (size_t k = 0; k < ws->size(); ++k) {
      JsonAt at = root.key(key).index(k);
      TraceWait w = wait_from_json((*ws)[k], at);
      lane(lanes, tid_of((*ws)[k], at)).waits.push_back(w);
    }
  }
  if (const json* top = opt_object(doc, "top", root)) {
    JsonAt at = root.key("top");
    if (const json* a = opt_array(*top, "files", at)) v.files = ranked_list(*a, at.key("files"));
    if (const json* a = opt_array(*top, "libraries", at)) v.libraries = ranked_list(*a, at.key("libraries"));
    if (const json* a = opt_array(*top, "syscalls", at)) v.syscalls = ranked_list(*a, at.key("syscalls"));
  }
  if (v.files.empty()) v.files = top_of(files, true);
  if (v.libraries.empty()) v.libraries = top_of(libraries, true);
  if (v.syscalls.empty()) v.syscalls = top_of(syscalls, false);
  v.total = opt_number(doc, {"total_s", "total"}, root).value_or(v.phases.empty() ? 0 : v.phases.back().end);
  for (auto& [tid, t] : lanes) v.threads.push_back(std::move(t));
  if (const json* notes = opt_array(doc, "notes", root))
    for (const json& n : *notes)
      if (n.is_string()) v.notes.push_back(n.get<std::string>());
}

void read_chrome(const json& doc, const JsonAt& root, TraceView& v) {
  const json& events = doc["traceEvents"];
  std::map<int64_t, TraceThread> lanes;
  std::map<int64_t, std::string> names;
  double t0 = INFINITY;
  for (const json& e : events)
    // Not e.value("ph", ""): it throws json's type_error when "ph" is not a string (found by the fuzzer).
    if (e.is_object() && e.contains("ph") && e["ph"] == "X" && e.contains("ts") && e["ts"].is_number())
      t0 = std::min(t0, e["ts"].get<double>());
  if (!std::isfinite(t0)) t0 = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const json& e = events[i];
    JsonAt at = root.key("traceEvents").index(i);
    expect_object(e, at);
    std::string ph = opt_string(e, "ph", at);
    int64_t tid = tid_of(e, at);
    if (ph == "M" && opt_string(e, "name", at) == "thread_name") {
      if (const json* args = opt_object(e, "args", at)) names[tid] = opt_string(*args, "name", at.key("args"));
      continue;
    }
    if (ph != "X") continue;
    double start = us_to_s(opt_number(e, {"ts"}, at).value_or(t0) - t0);
    double end = start + us_to_s(opt_number(e, {"dur"}, at).value_or(0));
    std::string name = opt_string(e, "name", at), cat = opt_string(e, "cat", at);
    if (cat == "phase") {
      v.phases.push_back({name, start, end, 0, {}});
      continue;
    }
    TraceThread& th = lane(lanes, tid);
    th.waits.push_back({start, end, cat.empty() ? "other" : cat, name});
    v.total = std::max(v.total, end);
  }
  std::sort(v.phases.begin(), v.phases.end(), [](const TracePhase& a, const TracePhase& b) { return a.start < b.start; });
  if (!v.phases.empty()) v.total = std::max(v.total, v.phases.back().end);
  v.reached_ready = true;
  for (auto& [tid, t] : lanes) {
    t.name = names[tid];
    v.threads.push_back(std::move(t));
  }
}

}  // namespace

bool looks_like_trace(const json& doc) {
  return doc.is_object() && ((doc.contains("phases") && doc["phases"].is_array()) ||
                             (doc.contains("traceEvents") && doc["traceEvents"].is_array()));
}

bool looks_like_run(const json& doc) {
  if (!doc.is_object()) return false;
  if (doc.contains("starts") && doc["starts"].is_array()) return true;  // coldstart run --json
  return doc.contains("timeline") && (doc["timeline"].is_object() || doc["timeline"].is_array());
}

TraceView trace_from_json(const json& doc, std::string_view source) {
  if (!looks_like_trace(doc))
    throw UserError(std::string(source) + ": not a trace JSON (no \"phases\" or \"traceEvents\" array)");
  TraceView v;
  v.source = std::string(source);
  JsonAt root{source, ""};
  if (doc.contains("phases"))
    read_native(doc, root, v);
  else
    read_chrome(doc, root, v);
  for (TraceThread& t : v.threads) {
    std::sort(t.waits.begin(), t.waits.end(), [](const TraceWait& a, const TraceWait& b) { return a.start < b.start; });
    if (t.end < 0) t.end = v.total;
    for (const TraceWait& w : t.waits) t.end = std::max(t.end, w.end);
    v.total = std::max(v.total, t.end);
  }
  return v;
}

RunView run_from_json(const json& doc, std::string_view source) {
  if (!looks_like_run(doc)) throw UserError(std::string(source) + ": not a run JSON (no \"starts\" or \"timeline\")");
  RunView v;
  v.source = std::string(source);
  JsonAt root{source, ""};
  v.program = opt_string(doc, "program", root);
  if (const json* starts = opt_array(doc, "starts", root)) {
    // coldstart run: per start {spawn, ready, boost_end, ...} in seconds since supervision began.
    // The end of a start is left out: a service runs for hours after its start-up.
    for (size_t i = 0; i < starts->size(); ++i) {
      JsonAt a = root.key("starts").index(i);
      expect_object((*starts)[i], a);
      std::string prefix = starts->size() > 1 ? fmt::format("#{} ", i + 1) : "";
      for (auto [key, name] : {std::pair{"spawn", "spawn"}, {"ready", "ready"}, {"boost_end", "boost end"}})
        if (auto t = opt_number((*starts)[i], {key}, a)) v.events.emplace_back(prefix + name, *t);
    }
    std::stable_sort(v.events.begin(), v.events.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    return v;
  }
  const json& tl = doc["timeline"];
  JsonAt at = root.key("timeline");
  if (tl.is_object()) {
    // {"spawn_s": 0, "ready_s": 0.002, "boost_end_s": 0.002}: one instant per key.
    for (const auto& [key, value] : tl.items()) {
      if (value.is_null()) continue;
      if (!value.is_number()) json_error(at.key(key), "is not a number");
      std::string name = key;
      if (ends_with(name, "_s")) name.resize(name.size() - 2);
      std::replace(name.begin(), name.end(), '_', ' ');
      v.events.emplace_back(name, value.get<double>());
    }
  } else {
    for (size_t i = 0; i < tl.size(); ++i) {
      JsonAt a = at.index(i);
      expect_object(tl[i], a);
      std::string name = opt_string(tl[i], "event", a);
      if (name.empty()) name = opt_string(tl[i], "name", a);
      auto t = opt_number(tl[i], {"t_s", "time_s", "at_s", "t"}, a);
      if (!t) json_error(a, "has no time (t_s)");
      v.events.emplace_back(name, *t);
    }
  }
  std::stable_sort(v.events.begin(), v.events.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return v;
}

}  // namespace coldstart::report
