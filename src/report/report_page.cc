// Loading report inputs and assembling the page: one section per input in
// the order given (traces first read best, but the user's order is kept),
// each with its own figures; the history trend last.
#include "report/report_page.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "core/bytes.h"
#include "core/error.h"
#include "core/file.h"
#include "report/bench_charts.h"
#include "report/html.h"
#include "report/trace_charts.h"
#include "report/trend_chart.h"

namespace coldstart::report {

void load_input_file(const std::string& path, ReportInputs& inputs) {
  Mapping map = Mapping::map_file(path);  // throws "open PATH: ..." for missing/unreadable files
  nlohmann::json doc = nlohmann::json::parse(as_chars(map.bytes()), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw UserError(path + ": not valid JSON");
  if (looks_like_matrix(doc))
    inputs.matrices.push_back(matrix_from_json(doc, path));
  else if (looks_like_bench(doc))
    inputs.benches.push_back(bench_from_json(doc, path));
  else if (looks_like_trace(doc))
    inputs.traces.push_back(trace_from_json(doc, path));
  else if (looks_like_run(doc))
    inputs.runs.push_back(run_from_json(doc, path));
  else
    throw UserError(path + ": not a coldstart bench, trace or run JSON (expected \"results\", \"phases\", "
                           "\"traceEvents\" or \"starts\")");
}

std::string render_report(const ReportInputs& in) {
  Page page("coldstart report");
  for (size_t i = 0; i < in.traces.size(); ++i)
    page.section(fmt::format("trace-{}", i),
                 "Trace: " + (in.traces[i].program.empty() ? in.traces[i].source : in.traces[i].program),
                 trace_html(in.traces[i], i));
  for (size_t i = 0; i < in.runs.size(); ++i)
    page.section(fmt::format("run-{}", i), "Run: " + (in.runs[i].program.empty() ? in.runs[i].source : in.runs[i].program),
                 run_html(in.runs[i], i));
  // Benches of the same program in separate files share one time axis.
  auto programs = [](const BenchSet& s) {
    std::set<std::string> names;
    for (const BenchCommand& c : s.commands) names.insert(service_name(c.command));
    return names;
  };
  for (size_t i = 0; i < in.benches.size(); ++i) {
    std::vector<const BenchSet*> same;
    std::set<std::string> mine = programs(in.benches[i]);
    for (const BenchSet& other : in.benches) {
      std::set<std::string> theirs = programs(other);
      if (std::any_of(mine.begin(), mine.end(), [&](const std::string& n) { return theirs.count(n) > 0; }))
        same.push_back(&other);
    }
    page.section(fmt::format("bench-{}", i), "Bench: " + in.benches[i].source, bench_html(in.benches[i], i, same));
  }
  for (size_t i = 0; i < in.matrices.size(); ++i)
    page.section(fmt::format("matrix-{}", i), "Bench matrix: " + in.matrices[i].source, matrix_html(in.matrices[i], i));
  if (!in.history_label.empty())
    page.section("history", "History: " + in.history_label, trend_html(in.history_label, in.history));
  return page.str();
}

}  // namespace coldstart::report
