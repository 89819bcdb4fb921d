// Baseline comparison and the regression gate.
//
// A stored session and a new bench are paired command by command (same
// command text and mode; a lone command on each side pairs regardless, so a
// rebuilt binary at a new path still compares). Each pair gets the ratio of
// medians with a bootstrap interval and a Mann-Whitney p-value
// (two_sample.h). The gate fires only for a slowdown that is significant
// (p < 0.05) AND whose 95% interval lies wholly above the budget (lower bound
// of the ratio's CI > 1 + budget): we must be confident the slowdown exceeds
// the budget, so noise alone never fails a CI job, and neither does a
// significant 2% slowdown within a 10% budget, nor a 12% point estimate
// whose interval reaches down to 1.05x.
#include "report/baseline.h"

#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"
#include "report/comparison_words.h"
#include "report/two_sample.h"

namespace coldstart::report {
namespace {

const BenchCommand* find_counterpart(const Session& baseline, const BenchCommand& c, size_t current_count) {
  for (const BenchCommand& b : baseline.commands)
    if (b.command == c.command && b.mode == c.mode) return &b;
  if (baseline.commands.size() == 1 && current_count == 1) return &baseline.commands.front();
  return nullptr;
}

}  // namespace

BaselineComparison compare_with_baseline(const Session& baseline, const BenchSet& current) {
  BaselineComparison out;
  out.label = baseline.label;
  out.baseline_time = baseline.created_at;
  out.baseline_revision = baseline.git_revision;
  for (const BenchCommand& c : current.commands) {
    const BenchCommand* b = find_counterpart(baseline, c, current.commands.size());
    if (b == nullptr || b->times.empty() || c.times.empty()) {
      out.unmatched.push_back(c.command);
      continue;
    }
    BaselineRow row;
    row.command = c.command;
    row.mode = c.mode;
    row.baseline = summarize(b->times);
    row.current = summarize(c.times);
    if (row.baseline.median > 0) {
      RatioEstimate r = median_ratio(b->times, c.times);
      row.ratio = r.ratio;
      row.ci_low = r.low;
      row.ci_high = r.high;
    }
    row.p_value = mann_whitney_p(b->times, c.times);
    out.rows.push_back(std::move(row));
  }
  return out;
}

BaselineComparison compare_with_baseline(const std::string& db_path, const std::string& label,
                                         const BenchSet& current) {
  HistoryDb db = HistoryDb::open(db_path);
  auto session = db.latest(label);
  if (!session) throw UserError("history " + db_path + ": no bench saved under label '" + label + "'");
  return compare_with_baseline(*session, current);
}

std::optional<RegressionBudget> parse_regression_budget(std::string_view expr) {
  std::string_view e = trim(expr);
  if (!starts_with(e, "regression")) return std::nullopt;
  std::string_view rest = trim(e.substr(10));
  if (starts_with(rest, "<="))
    rest = rest.substr(2);
  else if (starts_with(rest, "<"))
    rest = rest.substr(1);
  else
    throw UserError("budget '" + std::string(expr) + "': expected 'regression<N%'");
  rest = trim(rest);
  bool percent = ends_with(rest, "%");
  if (percent) rest.remove_suffix(1);
  std::string number(trim(rest));
  char* end = nullptr;
  double v = std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || !std::isfinite(v) || v < 0)
    throw UserError("budget '" + std::string(expr) + "': expected 'regression<N%' with N >= 0");
  return RegressionBudget{percent ? v / 100 : v};
}

std::vector<const BaselineRow*> regressions(const BaselineComparison& c, RegressionBudget budget) {
  std::vector<const BaselineRow*> out;
  for (const BaselineRow& r : c.rows)
    if (r.significant() && r.ci_low > 1 + budget.max_slowdown) out.push_back(&r);
  return out;
}

std::string describe(const BaselineRow& row, const std::string& label) {
  return fmt::format("vs '{}': {}; median {} vs {}", label,
                     compare_words(row.ratio, row.ci_low, row.ci_high, row.p_value).text(),
                     format_duration(row.current.median), format_duration(row.baseline.median));
}

std::string describe(const BaselineComparison& c, std::optional<RegressionBudget> budget) {
  std::string out;
  for (const BaselineRow& r : c.rows) out += r.command + ": " + describe(r, c.label) + "\n";
  for (const std::string& u : c.unmatched) out += u + ": no runs to compare in '" + c.label + "'\n";
  if (budget) {
    auto bad = regressions(c, *budget);
    if (bad.empty())
      out += fmt::format("budget regression<{}%: met\n", budget->max_slowdown * 100);
    else
      out += fmt::format("budget regression<{}%: FAILED for {} command{}\n", budget->max_slowdown * 100, bad.size(),
                         bad.size() == 1 ? "" : "s");
  }
  return out;
}

}  // namespace coldstart::report
