// The printers of bench's result model (bench_results.h), one per format:
// the human table, JSON (a superset of hyperfine's --export-json schema, read
// back by bench_model.h's bench_from_json), markdown and CSV.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "report/bench_results.h"

namespace coldstart::report {

nlohmann::json bench_json(const BenchReport& report);
std::string bench_markdown(const BenchReport& report);
std::string bench_csv(const BenchReport& report);
/// The human output (stdout of `coldstart bench`).
std::string bench_text(const BenchReport& report);

}  // namespace coldstart::report
