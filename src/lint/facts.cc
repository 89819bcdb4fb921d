// Facts from outside the linted files: measured time-to-ready here (the
// binary facts are in program_facts.cc).
//
// Bench facts: p99 with linear interpolation (R type 7, numpy's default),
// the same estimator report/ uses, when the file has no "p99" of its own.
#include "lint/facts.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file.h"
#include "core/strings.h"

namespace coldstart::lint {

double p99_of(std::vector<double> times) {
  if (times.empty()) return 0;
  std::sort(times.begin(), times.end());
  double h = 0.99 * static_cast<double>(times.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(h));
  size_t hi = std::min(lo + 1, times.size() - 1);
  return times[lo] + (h - static_cast<double>(lo)) * (times[hi] - times[lo]);
}

std::vector<MeasuredStart> read_bench_results(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) throw_sys("open", path);
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded()) throw UserError(fmt::format("{}: not valid JSON", path));
  if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array())
    throw UserError(fmt::format("{}: no \"results\" array (expected coldstart bench --export-json)", path));
  std::vector<MeasuredStart> out;
  size_t i = 0;
  for (const auto& r : doc["results"]) {
    auto where = fmt::format("{}: results[{}]", path, i++);
    if (!r.is_object() || !r.contains("command") || !r["command"].is_string())
      throw UserError(where + ": no \"command\" string");
    MeasuredStart m;
    m.file = path;
    m.command = r["command"].get<std::string>();
    auto words = shell_split(m.command);
    m.program = words.empty() ? "" : std::filesystem::path(words[0]).filename().string();
    std::vector<double> times;
    if (r.contains("times")) {
      if (!r["times"].is_array()) throw UserError(where + ": \"times\" is not an array");
      for (const auto& t : r["times"]) {
        if (!t.is_number()) throw UserError(where + ": \"times\" holds a non-number");
        times.push_back(t.get<double>());
      }
    }
    m.runs = times.size();
    if (r.contains("p99") && r["p99"].is_number()) m.p99 = r["p99"].get<double>();
    else if (!times.empty()) m.p99 = p99_of(times);
    else throw UserError(where + ": neither \"p99\" nor \"times\"");
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<MeasuredStart> measured_start_for(const std::vector<MeasuredStart>& results,
                                                const std::string& program_path) {
  std::string base = std::filesystem::path(program_path).filename().string();
  for (const MeasuredStart& m : results)
    if (!base.empty() && m.program == base) return m;
  if (results.size() == 1) return results[0];
  return std::nullopt;
}

}  // namespace coldstart::lint
