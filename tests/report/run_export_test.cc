// run's printers (report/run_export.h): instants relative to the start of
// supervision, "did not happen" as null/-1, restarts as extra samples.
#include "report/run_export.h"

#include <gtest/gtest.h>

#include "core/strings.h"

namespace coldstart::report {
namespace {

constexpr int64_t kMs = 1'000'000;

supervise::SupervisorReport two_starts() {
  supervise::SupervisorReport r;
  r.begin_ns = 1000 * kMs;
  r.exit_code = 1;
  r.restarts = 1;
  r.final_reason = "start limit";
  r.listening = {"tcp:127.0.0.1:8080"};
  supervise::StartRecord first;  // ready after 20 ms, then crashed
  first.pid = 41;
  first.spawn_ns = r.begin_ns + 2 * kMs;
  first.ready_ns = r.begin_ns + 22 * kMs;
  first.end_ns = r.begin_ns + 500 * kMs;
  first.end = "exit code 3";
  supervise::StartRecord second;  // never ready, stopped by coldstart
  second.pid = 42;
  second.spawn_ns = r.begin_ns + 600 * kMs;
  second.end_ns = r.begin_ns + 900 * kMs;
  second.end = "killed by SIGTERM";
  second.stop_reason = "start timeout";
  r.starts = {first, second};
  return r;
}

TEST(RunExport, JsonGivesInstantsSinceSupervisionBeganAndNullForWhatDidNotHappen) {
  nlohmann::json j = run_json(two_starts(), {"Service.Nice"});
  EXPECT_EQ(j["command"], "run");
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_EQ(j["restarts"], 1);
  EXPECT_EQ(j["final_reason"], "start limit");
  EXPECT_EQ(j["unsupported_unit_keys"], nlohmann::json({"Service.Nice"}));
  ASSERT_EQ(j["starts"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["starts"][0]["spawn"].get<double>(), 0.002);
  EXPECT_DOUBLE_EQ(j["starts"][0]["ready"].get<double>(), 0.022);
  EXPECT_DOUBLE_EQ(j["starts"][0]["time_to_ready"].get<double>(), 0.020);
  EXPECT_TRUE(j["starts"][0]["boost_end"].is_null());
  EXPECT_TRUE(j["starts"][1]["ready"].is_null());
  EXPECT_TRUE(j["starts"][1]["time_to_ready"].is_null());
  EXPECT_EQ(j["starts"][1]["stopped_for"], "start timeout");
}

TEST(RunExport, TimelineHasALinePerStartAndTheOutcome) {
  std::string t = run_timeline_text(two_starts());
  EXPECT_NE(t.find("  start 1 pid 41: spawn +0.002000  ready +0.022000 (" + format_duration(0.020) +
                   ")  end +0.500000 (exit code 3)\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("  start 2 pid 42: spawn +0.600000  never ready  end +0.900000 (killed by SIGTERM) "
                   "[stopped: start timeout]\n"),
            std::string::npos)
      << t;
  EXPECT_TRUE(t.ends_with("exit 1 (start limit; 1 restart)\n")) << t;
}

TEST(RunExport, ReadySeriesHasOneSamplePerReadyStart) {
  std::vector<ReadySeries> s = run_ready_series(two_starts(), {"/usr/bin/web", "--port", "80"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].mode, "run");
  EXPECT_EQ(s[0].service, service_name("/usr/bin/web --port 80"));
  ASSERT_EQ(s[0].seconds.size(), 1u);
  EXPECT_DOUBLE_EQ(s[0].seconds[0], 0.020);
}

}  // namespace
}  // namespace coldstart::report
