// End-to-end tests of the history through the real binary: bench --save,
// coldstart history --json, bench --baseline with the 'regression<N%' gate,
// and several bench --save writing one database at once.
//
// The gate tests use launch-fixture's `notify MS` mode: its start is a fixed
// sleep of MS ms before READY=1. 20 ms vs 40 ms is a 2x slowdown whose 95% CI
// stays far above 1.10 even when a loaded 2-core machine adds several ms of
// scheduling delay to every start (20 vs 30 ms measured 1.22x, CI 1.08x-1.46x
// under a parallel build: too close to the budget for a test that must not
// flake); 20 ms vs 20 ms is an unchanged start whose noise must not fire.
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "launch/launch_test_util.h"

namespace coldstart {
namespace {

using nlohmann::json;

std::string fx(const std::string& args) { return "'" + test::fixture("launch-fixture") + " " + args + "'"; }

std::string bench(const std::string& db, const std::string& args) {
  return test::coldstart_binary() + " bench --ready notify --warmup 1 --db " + db + " " + args;
}

json read_json(const std::string& path) { return json::parse(test::read_text(path)); }

json history(const std::string& db) {
  auto r = test::run_shell(test::coldstart_binary() + " history --json --db " + db);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

TEST(HistoryCli, SaveListReloadCompare) {
  test::TempDir dir;
  std::string db = dir.path() + "/h.db", out = dir.path() + "/b.json";
  auto saved = test::run_shell(bench(db, "--runs 5 --save main --export-json " + out + " " + fx("notify 5")));
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  EXPECT_NE(saved.err.find("saved as 'main'"), std::string::npos) << saved.err;

  json h = history(db);
  ASSERT_EQ(h["sessions"].size(), 1u);
  const json& s = h["sessions"][0];
  EXPECT_EQ(s["label"], "main");
  EXPECT_FALSE(s["host"]["kernel"].get<std::string>().empty());
  EXPECT_FALSE(s["host"]["cpu_model"].get<std::string>().empty());
  ASSERT_EQ(s["commands"].size(), 1u);
  // Reload: the stored runs are exactly the runs bench exported.
  EXPECT_EQ(s["commands"][0]["times"], read_json(out)["results"][0]["times"]);
  EXPECT_EQ(s["commands"][0]["runs"], 5);
  EXPECT_EQ(s["commands"][0]["ready"], "notify");

  auto human = test::run_shell(test::coldstart_binary() + " history --db " + db);
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("main"), std::string::npos) << human.out;

  auto cmp = test::run_shell(bench(db, "--runs 5 --baseline main " + fx("notify 5")));
  EXPECT_EQ(cmp.exit_code, 0) << cmp.err;
  EXPECT_NE(cmp.out.find("vs 'main'"), std::string::npos) << cmp.out;
  EXPECT_EQ(history(db)["sessions"].size(), 1u);  // --baseline alone does not save
}

// The baseline and the new runs cannot be interleaved (they are separate
// benches), so a load change between them (ctest -j2) shifts one side: with
// 20 ms starts a few ms of timer-wake-up delay was a "significant 10%
// regression" (issue 16). At 100 ms the same delay is a few percent, far from
// the gate, while the slowed fixture (2x) still fails it by far.
TEST(HistoryCli, RegressionGateFiresOnSlowedFixtureOnly) {
  test::TempDir dir;
  std::string db = dir.path() + "/h.db";
  auto base = test::run_shell(bench(db, "--runs 8 --save base " + fx("notify 100")));
  ASSERT_EQ(base.exit_code, 0) << base.err;

  auto same = test::run_shell(bench(db, "--runs 8 --baseline base --budget 'regression<10%' " + fx("notify 100")));
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("budget regression<10%: met"), std::string::npos) << same.out;

  auto slow = test::run_shell(bench(db, "--runs 8 --baseline base --budget 'regression<10%' " + fx("notify 200")));
  EXPECT_EQ(slow.exit_code, 1) << slow.out << slow.err;
  EXPECT_NE(slow.out.find("budget regression<10%: FAILED"), std::string::npos) << slow.out;
  EXPECT_NE(slow.out.find("slower"), std::string::npos) << slow.out;
}

TEST(HistoryCli, GateMisuseIsExit2BeforeAnyRun) {
  test::TempDir dir;
  std::string db = dir.path() + "/h.db";
  auto no_baseline = test::run_shell(bench(db, "--runs 1 --budget 'regression<10%' " + fx("notify 1")));
  EXPECT_EQ(no_baseline.exit_code, 2);
  EXPECT_NE(no_baseline.err.find("needs --baseline"), std::string::npos) << no_baseline.err;
  auto no_label = test::run_shell(bench(db, "--runs 1 --baseline nosuch " + fx("notify 1")));
  EXPECT_EQ(no_label.exit_code, 2);
  EXPECT_NE(no_label.err.find("no bench saved under label 'nosuch'"), std::string::npos) << no_label.err;
  auto bad = test::run_shell(bench(db, "--runs 1 --baseline x --budget 'regression<lots' " + fx("notify 1")));
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

TEST(HistoryCli, ConcurrentSavesDoNotCorruptTheDatabase) {
  test::TempDir dir;
  std::string db = dir.path() + "/h.db";
  constexpr int kWriters = 4;
  std::vector<pid_t> pids;
  for (int i = 0; i < kWriters; ++i) {
    std::string cmd = bench(db, "--runs 3 --save w" + std::to_string(i) + " " + fx("notify " + std::to_string(2 + i))) +
                      " >/dev/null 2>" + dir.path() + "/err" + std::to_string(i);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  for (int i = 0; i < kWriters; ++i) {
    int status = 0;
    ASSERT_EQ(::waitpid(pids[static_cast<size_t>(i)], &status, 0), pids[static_cast<size_t>(i)]);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << test::run_shell("cat " + dir.path() + "/err" + std::to_string(i)).out;
  }
  json h = history(db);
  ASSERT_EQ(h["sessions"].size(), static_cast<size_t>(kWriters));
  std::vector<std::string> labels;
  for (const json& s : h["sessions"]) {
    ASSERT_EQ(s["commands"].size(), 1u);
    EXPECT_EQ(s["commands"][0]["times"].size(), 3u);
    labels.push_back(s["label"]);
  }
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(labels, (std::vector<std::string>{"w0", "w1", "w2", "w3"}));
  if (::access("/usr/bin/sqlite3", X_OK) == 0) {
    auto check = test::run_shell("sqlite3 " + db + " 'PRAGMA integrity_check'");
    EXPECT_EQ(check.out, "ok\n") << check.err;
  }
}

}  // namespace
}  // namespace coldstart
