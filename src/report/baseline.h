// Comparing a new bench with a stored baseline (bench --baseline LABEL) and
// the regression gate (bench --budget 'regression<10%').
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/bench_model.h"
#include "report/history.h"

namespace coldstart::report {

/// How a command's new runs compare with the same command's stored runs.
struct BaselineRow {
  std::string command;
  std::string mode;
  Summary baseline, current;
  double ratio = 1;                 // current median / baseline median
  double ci_low = 1, ci_high = 1;   // 95% bootstrap interval of that ratio
  double p_value = 1;               // two-sided Mann-Whitney U
  bool significant() const { return p_value < 0.05; }
};

/// The comparison of one bench with the session stored under `label`.
struct BaselineComparison {
  std::string label;
  double baseline_time = 0;         // when the baseline was saved (Unix seconds)
  std::string baseline_revision;
  std::vector<BaselineRow> rows;
  std::vector<std::string> unmatched;  // new commands with no stored counterpart
};

/// Pairs each command of `current` with the baseline's command of the same
/// text and mode (or, when both have exactly one command, with that one) and
/// compares their runs. Commands without runs on either side are unmatched.
BaselineComparison compare_with_baseline(const Session& baseline, const BenchSet& current);

/// Loads the newest session under `label` from `db_path` and compares (one
/// call for bench --baseline). Throws UserError if there is no such label.
BaselineComparison compare_with_baseline(const std::string& db_path, const std::string& label,
                                         const BenchSet& current);

/// A regression budget: the largest tolerated slowdown of the median, as a fraction.
struct RegressionBudget {
  double max_slowdown = 0.10;
};

/// Parses "regression<10%" (also "<=", and a bare fraction "regression<0.1").
/// nullopt when `expr` is not a regression budget (bench has other budgets);
/// throws UserError when it is one but malformed.
std::optional<RegressionBudget> parse_regression_budget(std::string_view expr);

/// The rows that break the budget: significant (p < 0.05) AND the lower bound
/// of the ratio's 95% CI above 1 + max_slowdown (confidently over budget).
std::vector<const BaselineRow*> regressions(const BaselineComparison& c, RegressionBudget budget);

/// "vs 'main': 1.42× slower (95% CI 1.30×–1.55×, p < 0.001); median 2.31 ms vs 1.63 ms".
std::string describe(const BaselineRow& row, const std::string& label);

/// Human lines for a whole comparison, ending with the gate's verdict when a budget is given.
std::string describe(const BaselineComparison& c, std::optional<RegressionBudget> budget);

}  // namespace coldstart::report
