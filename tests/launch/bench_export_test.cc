// bench's result model: statistics, outliers, comparisons, budgets, and that
// the JSON reads back through report's bench_from_json (hyperfine's schema).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "launch/go_env.h"
#include "report/bench_budget.h"
#include "report/bench_export.h"
#include "report/bench_model.h"

namespace coldstart::report {
namespace {

BenchCommandResult command(const std::string& name, std::vector<double> times) {
  BenchCommandResult c;
  c.command = name;
  c.mode = "warm";
  c.ready = "notify";
  for (double t : times) {
    BenchRun r;
    r.ready = true;
    r.time_to_ready = seconds(t);
    c.runs.push_back(r);
  }
  return c;
}

TEST(BenchStats, QuantilesAndSpread) {
  auto c = command("a", {0.001, 0.002, 0.003, 0.004, 0.005});
  RunStats s = compute_stats(c.runs);
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.median, 0.003);
  EXPECT_DOUBLE_EQ(s.mean, 0.003);
  EXPECT_NEAR(s.stddev, 0.0015811, 1e-6);
  EXPECT_DOUBLE_EQ(s.min, 0.001);
  EXPECT_DOUBLE_EQ(s.max, 0.005);
  EXPECT_NEAR(s.p90, 0.0046, 1e-9);
}

TEST(BenchStats, FailedRunsAreNotInTheStatistics) {
  auto c = command("a", {0.001, 0.003});
  BenchRun failed;
  failed.failure = "exit code 3";
  c.runs.push_back(failed);
  EXPECT_EQ(compute_stats(c.runs).count, 2u);
}

TEST(BenchStats, OutlierWarningNamesASlowFirstRun) {
  std::vector<double> t = {0.050, 0.010, 0.0101, 0.0099, 0.0100, 0.0102, 0.0098};
  auto w = outlier_warning(t);
  ASSERT_TRUE(w);
  EXPECT_NE(w->find("first run"), std::string::npos) << *w;
  EXPECT_FALSE(outlier_warning(std::vector<double>{0.010, 0.0101, 0.0099, 0.0100, 0.0102}));
}

TEST(BenchStats, ComparisonSentenceInTheSharedWords) {
  BenchReport r;
  r.commands.push_back(command("./slow", {0.0142, 0.0141, 0.0143, 0.0142, 0.0144, 0.0140, 0.0142, 0.0141}));
  r.commands.push_back(command("./fast", {0.0100, 0.0101, 0.0099, 0.0100, 0.0102, 0.0098, 0.0100, 0.0101}));
  finish_report(r);
  ASSERT_EQ(r.comparisons.size(), 1u);
  EXPECT_NEAR(r.comparisons[0].ratio, 0.0100 / 0.0142, 1e-3);
  EXPECT_TRUE(r.comparisons[0].sentence.starts_with("./fast is 1.42× faster than ./slow (95% CI 1."))
      << r.comparisons[0].sentence;
  EXPECT_TRUE(r.comparisons[0].sentence.ends_with(", p < 0.001)")) << r.comparisons[0].sentence;
}

TEST(BenchBudget, ParsesAndChecks) {
  Budget b = Budget::parse("p95<20ms");
  EXPECT_EQ(b.stat, "p95");
  EXPECT_EQ(b.limit, std::chrono::milliseconds(20));
  RunStats s;
  s.count = 1;
  s.p95 = 0.019;
  EXPECT_TRUE(b.holds(s));
  s.p95 = 0.020;
  EXPECT_FALSE(b.holds(s));
  EXPECT_TRUE(Budget::parse("p95<=20ms").holds(s));
  EXPECT_THROW(Budget::parse("p95>20ms"), UserError);
  EXPECT_THROW(Budget::parse("median<soon"), UserError);
  EXPECT_FALSE(Budget::parse("max<1s").holds(RunStats{}));  // no ready run breaks any budget
}

TEST(BenchJson, ReadsBackAsHyperfineSchema) {
  BenchReport r;
  r.commands.push_back(command("./a", {0.001, 0.002, 0.003}));
  r.commands.push_back(command("./b", {0.002, 0.003, 0.004}));
  finish_report(r);
  BenchSet set = bench_from_json(bench_json(r), "x.json");
  ASSERT_EQ(set.commands.size(), 2u);
  EXPECT_EQ(set.commands[0].times.size(), 3u);
  EXPECT_EQ(set.commands[0].mode, "warm");
  EXPECT_EQ(set.commands[1].ready, "notify");
  ASSERT_EQ(set.comparisons.size(), 1u);
  EXPECT_EQ(set.comparisons[0].baseline, "./a");
  EXPECT_NEAR(set.comparisons[0].ratio, 1.5, 1e-9);
  EXPECT_NE(bench_csv(r).find("\"./b\",warm,\"notify\",3,1,"), std::string::npos);
  EXPECT_NE(bench_markdown(r).find("| `./a` | warm | notify |"), std::string::npos);
}

}  // namespace
}  // namespace coldstart::report

namespace coldstart::launch {
namespace {

TEST(GoEnv, AutomaxprocsAndAutomemlimitRules) {
  EXPECT_EQ(go_maxprocs_for(CpuMax{std::chrono::milliseconds(50), std::chrono::milliseconds(100)}), 1u);
  EXPECT_EQ(go_maxprocs_for(CpuMax{std::chrono::milliseconds(250), std::chrono::milliseconds(100)}), 2u);
  EXPECT_EQ(go_memlimit_for(1000), 900u);
  EXPECT_FALSE(go_sets_maxprocs_from_cgroup("go1.19.8"));
  EXPECT_TRUE(go_sets_maxprocs_from_cgroup("go1.25"));
  EXPECT_TRUE(go_sets_maxprocs_from_cgroup("go1.26.1"));
}

TEST(GoEnv, NonGoProgramsGetNothing) {
  Limits l;
  l.cpu_max = CpuMax{std::chrono::milliseconds(50), std::chrono::milliseconds(100)};
  GoRuntimeEnv g = go_runtime_env("/bin/sh", l, {});
  EXPECT_FALSE(g.is_go);
  EXPECT_TRUE(g.env.empty());
}

}  // namespace
}  // namespace coldstart::launch
