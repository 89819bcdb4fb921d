// The trace and run parts of the report: the phase waterfall with one lane
// per thread, the per-phase table, the top files/libraries/syscalls, and a
// supervised start's timeline.
#pragma once

#include <string>

#include "report/trace_view.h"

namespace coldstart::report {

/// Lanes drawn one by one; beyond this the remaining threads share one lane.
inline constexpr size_t kMaxLanes = 40;

/// The HTML of one trace (ids trace-<index>-waterfall; class "waterfall").
std::string trace_html(const TraceView& trace, size_t index);

/// The HTML of one run timeline (id run-<index>-timeline; class "timeline").
std::string run_html(const RunView& run, size_t index);

}  // namespace coldstart::report
