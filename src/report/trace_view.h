// What the report needs from a trace JSON or a run JSON, read tolerantly:
// times are seconds since coldstart's spawn. The readers name the file and
// the JSON path in every error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace coldstart::report {

/// An interval of a thread off the CPU, and why.
struct TraceWait {
  double start = 0, end = 0;
  std::string cause;   // "disk", "network", "sleeping", "run-queue", "throttled", "other"
  std::string detail;  // e.g. the syscall it blocked in
};

/// One thread (or process) of the traced tree: when it lived and where it waited.
struct TraceThread {
  int64_t tid = 0;
  std::string name;
  double start = 0, end = 0;
  std::vector<TraceWait> waits;
};

/// One phase of the start (spawn, loader, runtime-init, app-init or init).
struct TracePhase {
  std::string name;
  double start = 0, end = 0;
  double on_cpu = 0;
  std::vector<std::pair<std::string, double>> off_cpu;  // cause -> seconds
};

/// A ranked item of a "top" list: a file, library or syscall and what it cost.
struct RankedItem {
  std::string name;
  double value = 0;   // what the bars compare (seconds, or a count)
  std::string text;   // how the value reads ("3.2 ms", "412 calls")
};

/// TraceView is one traced launch as the waterfall draws it.
struct TraceView {
  std::string source, program, backend;
  double total = 0;  // spawn to ready (or to the end of the window)
  bool reached_ready = false;
  std::vector<TracePhase> phases;
  std::vector<TraceThread> threads;
  std::vector<RankedItem> files, libraries, syscalls;
  std::vector<std::string> notes;
};

/// RunView is a supervised start's timeline (coldstart run --json "starts", or a
/// "timeline" object/array of instants): named instants in seconds.
struct RunView {
  std::string source, program;
  std::vector<std::pair<std::string, double>> events;  // e.g. {"spawn", 0}, {"ready", 0.0021}, {"boost end", ...}
};

bool looks_like_trace(const nlohmann::json& doc);
bool looks_like_run(const nlohmann::json& doc);

/// Reads a trace JSON. Throws UserError naming `source` on a malformed field.
TraceView trace_from_json(const nlohmann::json& doc, std::string_view source);

/// Reads a run JSON. Throws UserError naming `source` on a malformed field.
RunView run_from_json(const nlohmann::json& doc, std::string_view source);

}  // namespace coldstart::report
