// The event log's line: one start record as JSON (durations in seconds).
#pragma once

#include <nlohmann/json.hpp>

#include "watch/start_tracker.h"

namespace coldstart::watch {

/// The full record. `realtime_minus_monotonic_ns` turns kernel timestamps
/// into Unix time ("start_time", "exec_time").
nlohmann::json record_json(const StartRecord& r, int64_t realtime_minus_monotonic_ns);

/// CLOCK_REALTIME - CLOCK_MONOTONIC now, in ns.
int64_t realtime_offset_ns();

}  // namespace coldstart::watch
