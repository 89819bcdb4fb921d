// Bytes -> JSON -> report's readers (bench_from_json, trace_from_json,
// run_from_json, whichever looks_like_* accepts and also each one forced) ->
// render_report. report reads JSON files users hand it: anything that parses
// as JSON must either read into a model or throw UserError naming the file,
// and whatever reads must render without a crash (threads, phases and runs
// of any count, NaN-free or not).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "report/bench_model.h"
#include "report/report_page.h"
#include "report/trace_view.h"

using namespace coldstart;
using namespace coldstart::report;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  ReportInputs in;
  try {
    in.benches.push_back(bench_from_json(doc, "fuzz.json"));
  } catch (const UserError&) {
  }
  try {
    in.traces.push_back(trace_from_json(doc, "fuzz.json"));
  } catch (const UserError&) {
  }
  try {
    in.runs.push_back(run_from_json(doc, "fuzz.json"));
  } catch (const UserError&) {
  }
  (void)looks_like_bench(doc);
  (void)looks_like_trace(doc);
  (void)looks_like_run(doc);
  (void)render_report(in);
  return 0;
}
