// Reading bench JSON into the BenchSet model.
//
// The input is untrusted text: every field is type-checked before use and a
// mismatch becomes one UserError naming the file and the JSON path
// ("a.json: results[2].times[5] is not a number"). Unknown fields are ignored,
// so hyperfine's own exports and later coldstart versions both read. The
// quantiles use linear interpolation between order statistics (numpy's
// default), which is what hyperfine's plot scripts show.
#include "report/bench_model.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/strings.h"

namespace coldstart::report {
namespace {

using nlohmann::json;

[[noreturn]] void bad(std::string_view source, const std::string& where, const char* what) {
  throw UserError(std::string(source) + ": " + where + " " + what);
}

std::string string_field(const json& obj, const char* key, std::string_view source, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) bad(source, where + "." + key, "is not a string");
  return it->get<std::string>();
}

std::optional<double> number_field(const json& obj, const char* key, std::string_view source,
                                   const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) bad(source, where + "." + key, "is not a number");
  double v = it->get<double>();
  if (!std::isfinite(v)) bad(source, where + "." + key, "is not finite");
  return v;
}

BenchCommand command_from_json(const json& r, std::string_view source, const std::string& where) {
  if (!r.is_object()) bad(source, where, "is not an object");
  BenchCommand c;
  c.command = string_field(r, "command", source, where);
  if (c.command.empty()) bad(source, where, "has no command");
  c.mode = string_field(r, "mode", source, where);
  c.ready = string_field(r, "ready", source, where);
  if (auto it = r.find("times"); it != r.end() && !it->is_null()) {
    if (!it->is_array()) bad(source, where + ".times", "is not an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& t = (*it)[i];
      std::string at = where + ".times[" + std::to_string(i) + "]";
      if (!t.is_number()) bad(source, at, "is not a number");
      double v = t.get<double>();
      if (!std::isfinite(v) || v < 0) bad(source, at, "is not a duration in seconds");
      c.times.push_back(v);
    }
  }
  if (auto it = r.find("exit_codes"); it != r.end() && it->is_array()) {
    for (const json& e : *it) c.exit_codes.push_back(e.is_number_integer() ? e.get<int>() : -1);
  }
  return c;
}

BenchComparison comparison_from_json(const json& c, std::string_view source, const std::string& where) {
  if (!c.is_object()) bad(source, where, "is not an object");
  BenchComparison out;
  out.baseline = string_field(c, "baseline", source, where);
  out.candidate = string_field(c, "candidate", source, where);
  if (out.candidate.empty()) out.candidate = string_field(c, "command", source, where);
  out.ratio = number_field(c, "ratio", source, where).value_or(1.0);
  out.p_value = number_field(c, "p_value", source, where);
  if (auto it = c.find("ci"); it != c.end() && it->is_array() && it->size() == 2 && (*it)[0].is_number() &&
                               (*it)[1].is_number()) {
    out.ci_low = (*it)[0].get<double>();
    out.ci_high = (*it)[1].get<double>();
  } else {
    out.ci_low = number_field(c, "ci_low", source, where);
    out.ci_high = number_field(c, "ci_high", source, where);
  }
  return out;
}

}  // namespace

double quantile_sorted(std::span<const double> sorted, double q) {
  double pos = q * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

Summary summarize(std::span<const double> times) {
  Summary s;
  if (times.empty()) return s;
  std::vector<double> v(times.begin(), times.end());
  std::sort(v.begin(), v.end());
  s.count = v.size();
  double sum = 0;
  for (double t : v) sum += t;
  s.mean = sum / static_cast<double>(v.size());
  double sq = 0;
  for (double t : v) sq += (t - s.mean) * (t - s.mean);
  s.stddev = v.size() > 1 ? std::sqrt(sq / static_cast<double>(v.size() - 1)) : 0;
  s.median = quantile_sorted(v, 0.5);
  s.p95 = quantile_sorted(v, 0.95);
  s.min = v.front();
  s.max = v.back();
  return s;
}

bool looks_like_bench(const json& doc) {
  return doc.is_object() && doc.contains("results") && doc["results"].is_array();
}

BenchSet bench_from_json(const json& doc, std::string_view source) {
  if (!looks_like_bench(doc)) throw UserError(std::string(source) + ": not a bench JSON (no \"results\" array)");
  BenchSet set;
  set.source = std::string(source);
  const json& results = doc["results"];
  for (size_t i = 0; i < results.size(); ++i)
    set.commands.push_back(command_from_json(results[i], source, "results[" + std::to_string(i) + "]"));
  for (const char* key : {"comparisons", "comparison"}) {
    auto it = doc.find(key);
    if (it == doc.end() || it->is_null()) continue;
    if (it->is_object()) {
      set.comparisons.push_back(comparison_from_json(*it, source, key));
    } else if (it->is_array()) {
      for (size_t i = 0; i < it->size(); ++i)
        set.comparisons.push_back(
            comparison_from_json((*it)[i], source, std::string(key) + "[" + std::to_string(i) + "]"));
    }
  }
  return set;
}

std::string service_name(std::string_view command) {
  std::vector<std::string> words;
  try {
    words = shell_split(command);
  } catch (const UserError&) {
    words = split(command, ' ');
  }
  std::string first = words.empty() ? std::string(command) : words.front();
  size_t slash = first.rfind('/');
  std::string base = slash == std::string::npos ? first : first.substr(slash + 1);
  return base.empty() ? std::string(command) : base;
}

}  // namespace coldstart::report
