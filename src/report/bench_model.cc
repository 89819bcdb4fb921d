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
#include "report/json_fields.h"

namespace coldstart::report {
namespace {

using nlohmann::json;

BenchCommand command_from_json(const json& r, const JsonAt& at) {
  expect_object(r, at);
  BenchCommand c;
  c.command = opt_string(r, "command", at);
  if (c.command.empty()) json_error(at, "has no command");
  c.mode = opt_string(r, "mode", at);
  c.ready = opt_string(r, "ready", at);
  if (const json* times = opt_array(r, "times", at)) {
    for (size_t i = 0; i < times->size(); ++i) {
      const json& t = (*times)[i];
      JsonAt where = at.key("times").index(i);
      if (!t.is_number()) json_error(where, "is not a number");
      double v = t.get<double>();
      if (!std::isfinite(v) || v < 0) json_error(where, "is not a duration in seconds");
      c.times.push_back(v);
    }
  }
  if (const json* codes = opt_array(r, "exit_codes", at))
    for (const json& e : *codes) c.exit_codes.push_back(e.is_number_integer() ? e.get<int>() : -1);
  return c;
}

BenchComparison comparison_from_json(const json& c, const JsonAt& at) {
  expect_object(c, at);
  BenchComparison out;
  out.baseline = opt_string(c, "baseline", at);
  out.candidate = opt_string(c, "candidate", at);
  if (out.candidate.empty()) out.candidate = opt_string(c, "command", at);
  out.ratio = opt_number(c, {"ratio"}, at).value_or(1.0);
  out.p_value = opt_number(c, {"p_value"}, at);
  const json* ci = opt_array(c, "ci", at);
  if (ci && ci->size() == 2 && (*ci)[0].is_number() && (*ci)[1].is_number()) {
    out.ci_low = (*ci)[0].get<double>();
    out.ci_high = (*ci)[1].get<double>();
  } else {
    out.ci_low = opt_number(c, {"ci_low"}, at);
    out.ci_high = opt_number(c, {"ci_high"}, at);
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
  JsonAt root{source, ""};
  const json& results = doc["results"];
  for (size_t i = 0; i < results.size(); ++i)
    set.commands.push_back(command_from_json(results[i], root.key("results").index(i)));
  for (const char* key : {"comparisons", "comparison"}) {
    auto it = doc.find(key);
    if (it == doc.end() || it->is_null()) continue;
    if (it->is_object()) {
      set.comparisons.push_back(comparison_from_json(*it, root.key(key)));
    } else if (it->is_array()) {
      for (size_t i = 0; i < it->size(); ++i)
        set.comparisons.push_back(comparison_from_json((*it)[i], root.key(key).index(i)));
    }
  }
  return set;
}

std::vector<std::string> program_words(std::string_view command) {
  std::vector<std::string> words;
  try {
    words = shell_split(command);
  } catch (const UserError&) {
    words = split(command, ' ');
  }
  // Wrappers that exec the real program, and their options that take a value.
  struct Wrapper {
    const char* name;
    std::vector<std::string> valued;  // options whose value is the next word
    size_t positional = 0;            // leading non-option arguments (taskset's mask, timeout's duration)
  };
  static const Wrapper kWrappers[] = {
      {"setpriv", {"--reuid", "--regid", "--ruid", "--euid", "--rgid", "--egid", "--groups", "--inh-caps",
                   "--ambient-caps", "--bounding-set", "--securebits", "--selinux-label", "--apparmor-profile"}, 0},          {"env", {"-u", "-C", "-S"}, 0},  {"nice", {"-n"}, 0},
      {"taskset", {}, 1},          {"ionice", {"-c", "-n", "-p"}, 0}, {"chrt", {}, 1},
      {"stdbuf", {"-i", "-o", "-e"}, 0}, {"timeout", {"-s", "-k"}, 1}, {"runuser", {"-u", "-g"}, 0},
      {"setsid", {}, 0},           {"numactl", {}, 0},            {"prlimit", {}, 0},
  };
  size_t i = 0;
  for (bool again = true; again && i < words.size();) {
    again = false;
    std::string base = words[i].substr(words[i].rfind('/') + 1);
    for (const Wrapper& w : kWrappers) {
      if (base != w.name) continue;
      size_t positional = w.positional;
      bool list_option = base == "taskset";  // "taskset -c 0-3 prog": -c makes the next word the list
      ++i;
      while (i < words.size()) {
        const std::string& a = words[i];
        if (a == "--") {
          ++i;
          break;
        }
        if (a.starts_with('-')) {
          bool takes = std::find(w.valued.begin(), w.valued.end(), a) != w.valued.end();
          if (list_option && (a == "-c" || a == "--cpu-list")) takes = true, positional = 0;  // the list replaces the mask
          i += takes ? 2 : 1;
          continue;
        }
        if (base == "env" && a.find('=') != std::string::npos) {
          ++i;
          continue;
        }
        if (positional > 0) {
          --positional, ++i;
          continue;
        }
        break;
      }
      again = true;
      break;
    }
  }
  words.erase(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(std::min(i, words.size())));
  return words;
}

std::string service_name(std::string_view command) {
  std::vector<std::string> words = program_words(command);
  std::string first = words.empty() ? std::string(command) : words.front();
  size_t slash = first.rfind('/');
  std::string base = slash == std::string::npos ? first : first.substr(slash + 1);
  return base.empty() ? std::string(command) : base;
}

}  // namespace coldstart::report
