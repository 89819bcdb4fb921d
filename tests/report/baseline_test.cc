// Baseline comparison, the two-sample statistics and the regression budget.
#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "report/baseline.h"
#include "report/two_sample.h"
#include "test_util.h"

namespace coldstart::report {
namespace {

std::vector<double> noisy(double median, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::lognormal_distribution<double> d(0, 0.05);
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(median * d(rng));
  return v;
}

TEST(TwoSample, MannWhitneyMatchesScipy) {
  // scipy.stats.mannwhitneyu([1,2,3,4,5],[6,7,8,9,10], use_continuity=True,
  // alternative='two-sided', method='asymptotic').pvalue == 0.012186 (z = 12 / sqrt(275/12))
  std::vector<double> a = {1, 2, 3, 4, 5}, b = {6, 7, 8, 9, 10};
  EXPECT_NEAR(mann_whitney_p(a, b), 0.0121858, 1e-6);
  EXPECT_NEAR(mann_whitney_p(b, a), 0.0121858, 1e-6);
  std::vector<double> same = {1, 1, 1};
  EXPECT_DOUBLE_EQ(mann_whitney_p(same, same), 1);
  EXPECT_DOUBLE_EQ(mann_whitney_p({}, a), 1);
}

TEST(TwoSample, BootstrapIntervalBracketsTheRatio) {
  auto a = noisy(0.010, 30, 1), b = noisy(0.015, 30, 2);
  RatioEstimate r = median_ratio(a, b);
  EXPECT_NEAR(r.ratio, 1.5, 0.1);
  EXPECT_LT(r.low, r.ratio);
  EXPECT_GT(r.high, r.ratio);
  EXPECT_GT(r.low, 1.3);
  EXPECT_LT(r.high, 1.7);
}

Session stored(const std::string& command, std::vector<double> times) {
  Session s;
  s.label = "main";
  s.commands.push_back({command, "warm", "notify", std::move(times), {}});
  return s;
}

BenchSet current(const std::string& command, std::vector<double> times) {
  BenchSet set;
  set.commands.push_back({command, "warm", "notify", std::move(times), {}});
  return set;
}

TEST(Baseline, SlowerIsARegressionOnlyBeyondTheBudget) {
  Session base = stored("svc", noisy(0.010, 30, 3));
  BaselineComparison slow = compare_with_baseline(base, current("svc", noisy(0.013, 30, 4)));
  ASSERT_EQ(slow.rows.size(), 1u);
  EXPECT_TRUE(slow.rows[0].significant());
  EXPECT_NEAR(slow.rows[0].ratio, 1.3, 0.08);
  EXPECT_EQ(regressions(slow, {0.10}).size(), 1u);
  EXPECT_TRUE(regressions(slow, {0.50}).empty());
  EXPECT_NE(describe(slow, RegressionBudget{0.10}).find("FAILED"), std::string::npos);

  BaselineComparison same = compare_with_baseline(base, current("svc", noisy(0.010, 30, 5)));
  EXPECT_TRUE(regressions(same, {0.10}).empty());
  EXPECT_NE(describe(same, RegressionBudget{0.10}).find("met"), std::string::npos);
}

TEST(Baseline, GateNeedsConfidenceBeyondTheBudget) {
  // The rule: p < 0.05 AND the 95% CI's lower bound of the ratio above 1 + budget.
  auto row = [](double ratio, double low, double high, double p) {
    BaselineRow r;
    r.command = "svc";
    r.ratio = ratio;
    r.ci_low = low;
    r.ci_high = high;
    r.p_value = p;
    return r;
  };
  BaselineComparison c;
  c.rows = {row(1.12, 1.05, 1.20, 0.01)};  // point estimate over budget, interval not: quiet
  EXPECT_TRUE(regressions(c, {0.10}).empty());
  c.rows = {row(1.20, 1.11, 1.30, 0.01)};  // confidently over budget: fires
  EXPECT_EQ(regressions(c, {0.10}).size(), 1u);
  c.rows = {row(1.20, 1.15, 1.30, 0.20)};  // not significant: quiet
  EXPECT_TRUE(regressions(c, {0.10}).empty());
  c.rows = {row(1.03, 1.02, 1.04, 0.001)};  // significant but within budget: quiet
  EXPECT_TRUE(regressions(c, {0.10}).empty());
}

TEST(Baseline, PairsByCommandOrALoneCommand) {
  Session base = stored("/old/path/svc", {0.01, 0.011});
  EXPECT_EQ(compare_with_baseline(base, current("/new/path/svc", {0.01})).rows.size(), 1u);
  base.commands.push_back({"other", "warm", "", {0.02}, {}});
  BaselineComparison c = compare_with_baseline(base, current("/new/path/svc", {0.01}));
  EXPECT_TRUE(c.rows.empty());
  ASSERT_EQ(c.unmatched.size(), 1u);
  EXPECT_NE(describe(c, std::nullopt).find("no runs to compare"), std::string::npos);
}

TEST(Baseline, FromTheDatabase) {
  test::TempDir dir;
  std::string db = dir.path() + "/h.db";
  BenchSet base = current("svc", noisy(0.010, 20, 6));
  save_bench(db, "main", base);
  BaselineComparison c = compare_with_baseline(db, "main", current("svc", noisy(0.020, 20, 7)));
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_GT(c.rows[0].ratio, 1.7);
  EXPECT_THROW(compare_with_baseline(db, "missing", base), UserError);
}

TEST(Baseline, ParsesRegressionBudgets) {
  EXPECT_DOUBLE_EQ(parse_regression_budget("regression<10%")->max_slowdown, 0.10);
  EXPECT_DOUBLE_EQ(parse_regression_budget(" regression <= 2.5% ")->max_slowdown, 0.025);
  EXPECT_DOUBLE_EQ(parse_regression_budget("regression<0.2")->max_slowdown, 0.2);
  EXPECT_FALSE(parse_regression_budget("median<5ms"));
  EXPECT_THROW(parse_regression_budget("regression>10%"), UserError);
  EXPECT_THROW(parse_regression_budget("regression<x%"), UserError);
  EXPECT_THROW(parse_regression_budget("regression<-1%"), UserError);
}

}  // namespace
}  // namespace coldstart::report
