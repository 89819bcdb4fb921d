// The printers of one `coldstart run`: the start-up timeline as text (what
// run prints by default), as JSON (--json, --export-json; read back by
// `coldstart report` through trace_view.h's run_from_json) and as the
// time-to-ready series of the Prometheus export. Pure formatting of a
// SupervisorReport; cli/run.cc decides where each goes.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/prometheus.h"
#include "supervise/supervisor.h"

namespace coldstart::report {

/// The run JSON: {"command": "run", "exit_code", "restarts", "final_reason",
/// "listening", "unsupported_unit_keys", "starts": [...]}, each start's
/// instants in seconds since supervision began (-1 or null when it did not
/// happen).
nlohmann::json run_json(const supervise::SupervisorReport& r, const std::vector<std::string>& unsupported);

/// "start-up timeline (seconds since coldstart began supervising):" with one
/// line per start and the final "exit N (reason; K restarts)".
std::string run_timeline_text(const supervise::SupervisorReport& r);

/// One series (mode "run", service named from `argv`) of every start that
/// became ready: restarts add samples.
std::vector<ReadySeries> run_ready_series(const supervise::SupervisorReport& r, const std::vector<std::string>& argv);

}  // namespace coldstart::report
