// A writer of the Chrome Trace Event format (the JSON that chrome://tracing
// and the Perfetto UI open). It knows tracks and slices, not coldstart's
// trace model: trace_export.h maps a traced launch onto it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace coldstart::report {

/// One named track (a thread lane in the viewer).
struct ChromeTrack {
  int pid = 0;
  int tid = 0;
  std::string name;
  int sort_index = 0;  // lanes are shown in ascending order
};

/// A complete event ("ph": "X") on a track: [start_us, start_us + dur_us).
struct ChromeSlice {
  int pid = 0;
  int tid = 0;
  std::string name;
  std::string category;
  double start_us = 0;
  double dur_us = 0;
  nlohmann::json args = nlohmann::json::object();
};

/// ChromeTrace is one trace file's content: the process name, its tracks and slices.
struct ChromeTrace {
  int pid = 0;
  std::string process_name;
  std::vector<ChromeTrack> tracks;
  std::vector<ChromeSlice> slices;
};

/// The JSON text ({"traceEvents": [...], "displayTimeUnit": "ms"}). Slices
/// are ordered per track by start, longer first at equal starts, so a viewer
/// sees parents before the slices nested in them.
std::string write_chrome_trace(const ChromeTrace& trace);

}  // namespace coldstart::report
