// The bench input model of report/: what a bench JSON says, read from
// hyperfine's --export-json schema (results[] {command, times[], exit_codes[]})
// plus coldstart's own fields (mode, ready, comparisons). The history store,
// the Prometheus export and the HTML report all take this model.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace coldstart::report {

/// Order statistics of one sample of durations in seconds, computed once by summarize().
struct Summary {
  size_t count = 0;
  double mean = 0, stddev = 0, median = 0, p95 = 0, min = 0, max = 0;
};

/// The linear-interpolation quantile (R type 7, numpy's default) of a sorted sample.
/// Requires: `sorted` is sorted ascending and not empty; 0 <= q <= 1.
double quantile_sorted(std::span<const double> sorted, double q);

/// Summary of `times` (any order); all zero for an empty sample.
Summary summarize(std::span<const double> times);

/// One benchmarked command and its runs, as bench measured them.
struct BenchCommand {
  std::string command;
  std::string mode;   // "cold", "warm", "prewarm", or "" when the input does not say (hyperfine)
  std::string ready;  // the readiness spec, "" when unknown
  std::vector<double> times;   // seconds, one per run, in run order
  std::vector<int> exit_codes;  // one per run when known
};

/// A comparison between two commands as bench reported it (candidate / baseline).
struct BenchComparison {
  std::string baseline;
  std::string candidate;
  double ratio = 1;  // candidate median / baseline median
  std::optional<double> ci_low, ci_high;  // confidence interval of the ratio
  std::optional<double> p_value;
};

/// Everything one bench JSON holds.
struct BenchSet {
  std::string source;  // file name (for messages and captions)
  std::vector<BenchCommand> commands;
  std::vector<BenchComparison> comparisons;
};

/// True if `doc` has the shape of a bench JSON (a "results" array).
bool looks_like_bench(const nlohmann::json& doc);

/// Reads a bench JSON. Throws UserError naming `source` when a field has the
/// wrong type or a result has no command; an empty results array is valid.
BenchSet bench_from_json(const nlohmann::json& doc, std::string_view source);

/// The words from the program that is exec'd in the end: a known wrapper
/// (setpriv, env, nice, taskset, ionice, chrt, stdbuf, timeout, runuser,
/// setsid, numactl, prlimit) and its options are skipped, so
/// "setpriv --reuid=postgres postgres -D /x" gives "postgres -D /x".
std::vector<std::string> program_words(std::string_view command);

/// "go-user-service-static" for "/x/build/go-user-service-static --flag":
/// the base name of the exec'd program (program_words), a stable service label.
std::string service_name(std::string_view command);

}  // namespace coldstart::report
