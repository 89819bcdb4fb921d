// End-to-end tests of --export-prometheus on run and bench: node_exporter
// textfile-collector files with the time to ready of real fixture starts.
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "launch/launch_test_util.h"

namespace coldstart {
namespace {


// The value of the first sample line matching `selector` (a regex over the metric and labels).
double sample(const std::string& text, const std::string& selector) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(selector + "[^\\n]* ([0-9.e+-]+)\\n"))) return -1;
  return std::stod(m[1]);
}

TEST(ExportPrometheus, RunWritesItsStartsTimeToReady) {
  test::TempDir dir;
  std::string prom = dir.path() + "/run.prom";
  // Ready after 40 ms, then stopped by --runtime-max: the run ends by itself.
  auto r = test::run_shell(test::coldstart_binary() + " run --ready notify --runtime-max 200ms --export-prometheus " +
                           prom + " -- " + test::fixture("launch-fixture") + " notify 40");
  EXPECT_NE(r.exit_code, 2) << r.err;
  std::string text = test::read_text(prom);
  ASSERT_FALSE(text.empty()) << r.err;
  EXPECT_NE(text.find("# TYPE coldstart_time_to_ready_seconds summary"), std::string::npos) << text;
  std::string series = "coldstart_time_to_ready_seconds\\{service=\"launch-fixture\",host=\"[^\"]+\",mode=\"run\"";
  double median = sample(text, series + ",quantile=\"0.5\"\\}");
  EXPECT_GE(median, 0.040) << text;
  EXPECT_LT(median, 5.0) << text;
  EXPECT_EQ(sample(text, "coldstart_time_to_ready_seconds_count\\{service=\"launch-fixture\""), 1) << text;
  EXPECT_GT(sample(text, "coldstart_time_to_ready_last_export_timestamp_seconds"), 1.6e9) << text;
}

TEST(ExportPrometheus, RunThatNeverGetsReadyExportsNoQuantiles) {
  test::TempDir dir;
  std::string prom = dir.path() + "/run.prom";
  auto r = test::run_shell(test::coldstart_binary() + " run --timeout-start 200ms --timeout-stop 1s --export-prometheus " +
                           prom + " -- " + test::fixture("launch-fixture") + " never");
  EXPECT_NE(r.exit_code, 0);
  std::string text = test::read_text(prom);
  EXPECT_EQ(text.find("quantile="), std::string::npos) << text;
  EXPECT_NE(text.find("coldstart_time_to_ready_last_export_timestamp_seconds"), std::string::npos) << text;
}

// An output path that cannot be written is exit 2 before anything runs, not a
// lost measurement at the end.
TEST(ExportPrometheus, UnwritableOutputPathsAreExit2BeforeAnyStart) {
  test::TempDir dir;
  const std::string missing = dir.path() + "/no/such/dir/out";
  const std::string fx = test::fixture("launch-fixture");
  for (const std::string& cmd :
       {" run --export-prometheus " + missing + " -- " + fx + " notify 0",
        " run --export-json " + missing + " -- " + fx + " notify 0",
        " bench --runs 1 --export-prometheus " + missing + " '" + fx + " exit 0'",
        " bench --runs 1 --export-csv " + dir.path() + " '" + fx + " exit 0'"}) {
    auto r = test::run_shell(test::coldstart_binary() + cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("coldstart: error: --export-", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find("started main pid"), std::string::npos) << r.err;
  }
}

TEST(ExportPrometheus, BenchWritesOneSeriesPerCommand) {
  test::TempDir dir;
  std::string prom = dir.path() + "/bench.prom";
  auto r = test::run_shell(test::coldstart_binary() + " bench --ready notify --runs 3 --warmup 0 --export-prometheus " +
                           prom + " '" + test::fixture("launch-fixture") + " notify 30'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string text = test::read_text(prom);
  EXPECT_GE(sample(text, "mode=\"warm\",quantile=\"0.99\"\\}"), 0.030) << text;
  EXPECT_EQ(sample(text, "coldstart_time_to_ready_seconds_count\\{service=\"launch-fixture\""), 3) << text;
}

}  // namespace
}  // namespace coldstart
