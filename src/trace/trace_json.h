// The JSON form of a trace (schema in docs/trace.md): the phase summary plus
// the full event model. Durations are seconds; instants are seconds since t0.
#pragma once

#include <nlohmann/json.hpp>

#include "trace/event_model.h"
#include "trace/go_gc.h"
#include "trace/go_inittrace.h"
#include "trace/phases.h"

namespace coldstart::trace {

nlohmann::json to_json(const TraceLog& log, const TraceSummary& summary, const GoInitReport* go = nullptr);

/// The GC cycles (times in seconds since t0) and their summary.
nlohmann::json gc_json(const std::vector<GcCycle>& cycles, const GcSummary& summary, int64_t t0_ns);

}  // namespace coldstart::trace
