// `coldstart report`: load any mix of bench, trace and run JSON files and
// render them (and optionally a history trend) as one self-contained page.
#pragma once

#include <string>
#include <vector>

#include "report/bench_model.h"
#include "report/history.h"
#include "report/matrix.h"
#include "report/trace_view.h"

namespace coldstart::report {

/// ReportInputs is everything one page shows, in the order given.
struct ReportInputs {
  std::vector<BenchSet> benches;
  std::vector<TraceView> traces;
  std::vector<RunView> runs;
  std::vector<MatrixView> matrices;  // bench --matrix JSON
  std::string history_label;        // "" when no trend is asked for
  std::vector<Session> history;     // the sessions under history_label, oldest first
};

/// Reads and classifies each file. Throws UserError naming the file when it
/// cannot be read, is not JSON, or is JSON but not coldstart's.
void load_input_file(const std::string& path, ReportInputs& inputs);

/// The HTML document.
std::string render_report(const ReportInputs& inputs);

}  // namespace coldstart::report
