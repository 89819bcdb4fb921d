// The run printers (run_export.h). Instants are CLOCK_MONOTONIC ns in the
// report; every printer shows them relative to the report's begin_ns, and an
// instant of 0 means "did not happen".
#include "report/run_export.h"

#include <fmt/format.h>

#include "core/clock.h"
#include "core/strings.h"

namespace coldstart::report {
namespace {

double rel(int64_t t, int64_t begin) { return t == 0 ? -1 : ns_to_s(t - begin); }

}  // namespace

nlohmann::json run_json(const supervise::SupervisorReport& r, const std::vector<std::string>& unsupported) {
  nlohmann::json starts = nlohmann::json::array();
  for (const auto& s : r.starts) {
    nlohmann::json j{{"pid", s.pid}, {"spawn", rel(s.spawn_ns, r.begin_ns)}};
    j["ready"] = s.ready_ns ? nlohmann::json(rel(s.ready_ns, r.begin_ns)) : nlohmann::json(nullptr);
    j["time_to_ready"] = s.ready_ns ? nlohmann::json(ns_to_s(s.ready_ns - s.spawn_ns)) : nlohmann::json(nullptr);
    j["boost_end"] = s.boost_end_ns ? nlohmann::json(rel(s.boost_end_ns, r.begin_ns)) : nlohmann::json(nullptr);
    j["end"] = s.end_ns ? nlohmann::json(rel(s.end_ns, r.begin_ns)) : nlohmann::json(nullptr);
    j["end_status"] = s.end;
    j["stopped_for"] = s.stop_reason;
    j["cpu_s"] = to_seconds(s.at_end.user_time + s.at_end.system_time);
    j["cpu_periods"] = s.at_end.cpu_periods;
    j["throttled_periods"] = s.at_end.throttled_periods;
    j["throttled_s"] = to_seconds(s.at_end.throttled_time);
    starts.push_back(std::move(j));
  }
  return {{"command", "run"}, {"exit_code", r.exit_code}, {"restarts", r.restarts}, {"final_reason", r.final_reason},
          {"listening", r.listening}, {"unsupported_unit_keys", unsupported}, {"starts", starts}};
}

std::string run_timeline_text(const supervise::SupervisorReport& r) {
  std::string out = "start-up timeline (seconds since coldstart began supervising):\n";
  for (size_t i = 0; i < r.starts.size(); ++i) {
    const auto& s = r.starts[i];
    out += fmt::format("  start {} pid {}: spawn +{:.6f}", i + 1, s.pid, rel(s.spawn_ns, r.begin_ns));
    if (s.ready_ns) out += fmt::format("  ready +{:.6f} ({})", rel(s.ready_ns, r.begin_ns), format_duration(ns_to_s(s.ready_ns - s.spawn_ns)));
    else out += "  never ready";
    if (s.boost_end_ns) out += fmt::format("  boost end +{:.6f}", rel(s.boost_end_ns, r.begin_ns));
    if (s.end_ns) out += fmt::format("  end +{:.6f} ({})", rel(s.end_ns, r.begin_ns), s.end);
    if (!s.stop_reason.empty()) out += fmt::format(" [stopped: {}]", s.stop_reason);
    out += "\n";
  }
  out += fmt::format("exit {} ({}; {} restart{})\n", r.exit_code, r.final_reason, r.restarts, r.restarts == 1 ? "" : "s");
  return out;
}

std::vector<ReadySeries> run_ready_series(const supervise::SupervisorReport& r, const std::vector<std::string>& argv) {
  ReadySeries s{service_name(join(argv, " ")), "run", {}};
  for (const auto& st : r.starts)
    if (st.ready_ns) s.seconds.push_back(ns_to_s(st.ready_ns - st.spawn_ns));
  return {std::move(s)};
}

}  // namespace coldstart::report
