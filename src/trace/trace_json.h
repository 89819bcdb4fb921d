// The JSON form of a trace (schema in docs/trace.md): the phase summary plus
// the full event model. Durations are seconds; instants are seconds since t0.
#pragma once

#include <nlohmann/json.hpp>

#include "trace/event_model.h"
#include "trace/go_inittrace.h"
#include "trace/phases.h"

namespace coldstart::trace {

nlohmann::json to_json(const TraceLog& log, const TraceSummary& summary, const GoInitReport* go = nullptr);

}  // namespace coldstart::trace
