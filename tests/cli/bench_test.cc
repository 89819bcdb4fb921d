// End-to-end tests of `coldstart bench`: one per user-visible behaviour.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/process.h"
#include "launch/launch_test_util.h"

namespace coldstart {
namespace {

std::string cs() { return test::coldstart_binary() + " bench"; }
std::string fx(const std::string& args) { return "'" + test::fixture("launch-fixture") + " " + args + "'"; }

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(test::read_text(path)); }

TEST(BenchCli, NotifyTwoCommandsPrintsStatsAndComparison) {
  test::TempDir dir;
  std::string json = dir.path() + "/b.json", md = dir.path() + "/b.md", csv = dir.path() + "/b.csv";
  auto r = test::run_shell(cs() + " --runs 5 --warmup 1 --ready notify --export-json " + json + " --export-markdown " +
                           md + " --export-csv " + csv + " " + fx("notify 2") + " " + fx("notify 80"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Time to ready (median"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("× slower than"), std::string::npos) << r.out;
  auto j = read_json(json);
  ASSERT_EQ(j["results"].size(), 2u);
  for (const char* key : {"command", "mean", "stddev", "median", "user", "system", "min", "max", "times",
                          "exit_codes", "mode", "ready", "p90", "p95", "p99", "runs"}) {
    EXPECT_TRUE(j["results"][0].contains(key)) << key;
  }
  EXPECT_EQ(j["results"][0]["times"].size(), 5u);
  EXPECT_EQ(j["results"][0]["mode"], "warm");
  EXPECT_EQ(j["results"][0]["ready"], "notify");
  EXPECT_GE(j["results"][0]["median"].get<double>(), 0.002);
  EXPECT_GE(j["results"][1]["median"].get<double>(), 0.080);
  ASSERT_EQ(j["comparisons"].size(), 1u);
  EXPECT_GT(j["comparisons"][0]["ratio"].get<double>(), 1.0);
  EXPECT_GT(j["results"][0]["runs"][0]["minor_faults"].get<uint64_t>(), 0u);
  auto rm = test::run_shell("cat " + md);
  EXPECT_NE(rm.out.find("| Command |"), std::string::npos);
  auto rc = test::run_shell("wc -l < " + csv);
  EXPECT_EQ(rc.out, "11\n");  // header + 2 x 5 runs
}

TEST(BenchCli, CommandNotFoundIsExit2) {
  auto r = test::run_shell(cs() + " --runs 1 'no-such-command-xyz --flag'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "coldstart: error: command not found: no-such-command-xyz\n");
}

TEST(BenchCli, MalformedInputNamesTheBadPart) {
  auto spec = test::run_shell(cs() + " --ready tcp:host:0 /bin/true");
  EXPECT_EQ(spec.exit_code, 2);
  EXPECT_EQ(spec.err, "coldstart: error: bad --ready 'tcp:host:0': bad port '0' (want 1-65535)\n");
  auto budget = test::run_shell(cs() + " --budget 'p97<3ms' /bin/true");
  EXPECT_EQ(budget.exit_code, 2);
  EXPECT_NE(budget.err.find("unknown statistic 'p97'"), std::string::npos) << budget.err;
  auto size = test::run_shell(cs() + " --memory-high lots /bin/true");
  EXPECT_EQ(size.exit_code, 2);
  EXPECT_EQ(size.err, "coldstart: error: bad --memory-high 'lots': want a size like 256M, 2G or bare bytes\n");
}

TEST(BenchCli, CrashBeforeReadyIsExit1WithStderrTail) {
  auto r = test::run_shell(cs() + " --runs 3 --ready notify " + fx("crash"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("killed by SIGABRT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("boom: bad config"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(BenchCli, IgnoreFailureRecordsFailedRuns) {
  test::TempDir dir;
  std::string json = dir.path() + "/b.json";
  auto r = test::run_shell(cs() + " --runs 2 --ignore-failure --export-json " + json + " " + fx("exit 3"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = read_json(json);
  EXPECT_EQ(j["results"][0]["failed_runs"], 2);
  EXPECT_EQ(j["results"][0]["runs"][0]["exit_code"], 3);
}

TEST(BenchCli, NeverReadyTimesOut) {
  auto r = test::run_shell(cs() + " --runs 1 --ready notify --ready-timeout 200ms " + fx("never"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not ready after 200"), std::string::npos) << r.err;
}

TEST(BenchCli, BrokenBudgetIsExit1) {
  auto ok = test::run_shell(cs() + " --runs 3 --budget 'max<5s' " + fx("exit 0"));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  auto broken = test::run_shell(cs() + " --runs 3 --ready notify --budget 'median<1ms' " + fx("notify 5"));
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.err.find("budget 'median<1ms' broken"), std::string::npos) << broken.err;
}

TEST(BenchCli, ColdModeReportsResidency) {
  test::TempDir dir;
  std::string json = dir.path() + "/b.json";
  // A private copy of the fixture: other tests running in parallel launch the
  // shared one and would page it back in between our eviction and our start.
  const std::string own = test::copy_fixture(dir, "launch-fixture");
  auto r = test::run_shell(cs() + " --runs 2 --cold --ready notify --export-json " + json + " '" + own + " notify 1'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("resident before eviction"), std::string::npos) << r.out;
  auto j = read_json(json);
  EXPECT_EQ(j["results"][0]["mode"], "cold");
  EXPECT_GT(j["results"][0]["runs"][0]["file_pages"].get<uint64_t>(), 0u);
  // The second run's files were resident (the first run loaded them) and gone at its start.
  EXPECT_GT(j["results"][0]["runs"][1]["resident_before_pages"].get<uint64_t>(), 0u);
  EXPECT_LT(j["results"][0]["runs"][1]["resident_at_start_pages"].get<uint64_t>(),
            j["results"][0]["runs"][1]["file_pages"].get<uint64_t>() / 10);
}

TEST(BenchCli, CpuLimitSetsGomaxprocsForGo) {
  uint16_t port = test::free_port();
  auto r = test::run_shell(cs() + " --runs 2 --ready notify --cpu-max 50ms/100ms --env ADDR=127.0.0.1:" +
                           std::to_string(port) + " " + test::fixture("go-user-service-static"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("set GOMAXPROCS=1"), std::string::npos) << r.out;
}

TEST(BenchCli, RealServicesWithEveryProbe) {
  for (const char* service : {"user-service", "go-user-service-static"}) {
    for (const char* spec : {"notify", "tcp:127.0.0.1:PORT", "listen", "http://127.0.0.1:PORT/users/1",
                             "log:listening"}) {
      uint16_t port = test::free_port();
      std::string s = spec;
      if (auto at = s.find("PORT"); at != std::string::npos) s.replace(at, 4, std::to_string(port));
      auto r = test::run_shell(cs() + " --runs 2 --warmup 0 --ready '" + s + "' --env ADDR=127.0.0.1:" +
                               std::to_string(port) + " " + test::fixture(service));
      EXPECT_EQ(r.exit_code, 0) << service << " " << s << ": " << r.err;
    }
  }
}

TEST(BenchCli, RedisServerWithTcpProbe) {
  if (::access("/usr/bin/redis-server", X_OK) != 0) GTEST_SKIP() << "redis-server is not installed";
  uint16_t port = test::free_port();
  std::string cmd = "'/usr/bin/redis-server --port " + std::to_string(port) +
                    " --bind 127.0.0.1 --save \"\" --appendonly no --dir /tmp'";
  auto r = test::run_shell(cs() + " --runs 3 --warmup 0 --ready tcp:127.0.0.1:" + std::to_string(port) + " " + cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("Time to ready"), std::string::npos) << r.out;
}

// The launch cgroups of the coldstart process `pid` that exist now.
std::vector<std::string> cgroups_of(pid_t pid) {
  std::vector<std::string> out;
  DIR* d = ::opendir("/sys/fs/cgroup/unified/coldstart");
  if (d == nullptr) return out;
  std::string prefix = std::to_string(pid) + "-";
  while (dirent* e = ::readdir(d)) {
    if (std::string(e->d_name).starts_with(prefix)) out.emplace_back(e->d_name);
  }
  ::closedir(d);
  return out;
}

TEST(BenchCli, SigintStopsTheTargetRemovesTheCgroupAndExits130) {
  for (int sig : {SIGINT, SIGTERM}) {
    SpawnOptions o;
    o.argv = {test::coldstart_binary(), "bench", "--runs", "1", "--ready", "notify", "--ready-timeout", "30s",
              test::fixture("launch-fixture") + " stubborn"};
    o.env = environment_with({});
    int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    o.stdout_fd = o.stderr_fd = devnull;
    ChildProcess bench = spawn(o);
    ::close(devnull);
    // "stubborn" gets ready at once; bench then stops it and launches again
    // (warm-ups) — wait for a cgroup with two tasks, then interrupt.
    std::vector<std::string> cgs;
    int64_t deadline = monotonic_ns() + 10'000'000'000;
    while ((cgs = cgroups_of(bench.pid())).empty() && monotonic_ns() < deadline) ::usleep(200);
    ASSERT_FALSE(cgs.empty());
    ASSERT_TRUE(bench.signal(sig));
    ExitStatus st = bench.wait();
    EXPECT_EQ(st.code, 128 + sig) << st.describe();
    EXPECT_TRUE(cgroups_of(bench.pid()).empty());
  }
}

}  // namespace
}  // namespace coldstart
