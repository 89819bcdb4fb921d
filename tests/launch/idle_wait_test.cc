// The launcher sleeps while it waits: over a 1 s wait for readiness (every
// probe kind) and over a 1 s stop grace period, coldstart's own thread uses
// only a few percent of a CPU. A spinning wait (a level-triggered fd never
// re-armed, as cgroup.events once was) uses ~100% and takes that CPU from
// the target.
#include <sys/resource.h>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "launch/launcher.h"
#include "launch_test_util.h"

namespace coldstart::launch {
namespace {

/// CPU time (user + system) of the calling thread, in seconds.
double thread_cpu_s() {
  rusage ru{};
  ::getrusage(RUSAGE_THREAD, &ru);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

struct IdleCase {
  const char* name;
  std::vector<std::string> argv;  // "{fixture}" stands for the launch fixture
  std::string ready;
  bool expect_ready;
};

class IdleWait : public ::testing::TestWithParam<IdleCase> {};

// A polled probe (tcp:, listen, http:) connects or asks sock_diag every
// 200 µs at most, which costs a little; 5% of the wait leaves room for that
// and fails clearly on a spin (~100%).
constexpr double kMaxCpuShare = 0.05;

TEST_P(IdleWait, OneSecondWaitUsesAFewPercentOfACpu) {
  const IdleCase& c = GetParam();
  LaunchOptions o;
  for (const auto& a : c.argv) o.argv.push_back(a == "{fixture}" ? test::launch_fixture() : a);
  o.ready = ReadySpec::parse(c.ready);
  o.ready_timeout = std::chrono::seconds(1);
  Launch l(o);
  double cpu0 = thread_cpu_s();
  int64_t t0 = monotonic_ns();
  const RunRecord& r = l.wait_ready();
  double wall = ns_to_s(monotonic_ns() - t0);
  double cpu = thread_cpu_s() - cpu0;
  EXPECT_EQ(r.ready, c.expect_ready) << r.failure;
  EXPECT_GT(wall, 0.9);
  EXPECT_LT(cpu, kMaxCpuShare * wall) << c.name << ": " << cpu * 1e3 << " ms of CPU in " << wall * 1e3 << " ms";
}

const std::string kPort = std::to_string(test::free_port());

INSTANTIATE_TEST_SUITE_P(
    EveryProbe, IdleWait,
    ::testing::Values(IdleCase{"exit", {"/bin/sleep", "0.95"}, "exit", true},
                      IdleCase{"notify", {"{fixture}", "notify", "950"}, "notify", true},
                      IdleCase{"log", {"{fixture}", "log", "950"}, "log:ready to serve", true},
                      IdleCase{"tcp", {"{fixture}", "never"}, "tcp:127.0.0.1:" + kPort, false},
                      IdleCase{"listen", {"{fixture}", "never"}, "listen", false},
                      IdleCase{"http", {"{fixture}", "never"}, "http:http://127.0.0.1:" + kPort + "/", false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(IdleStop, GracePeriodWaitSleeps) {
  LaunchOptions o;
  o.argv = {test::launch_fixture(), "stubborn"};
  o.ready = ReadySpec::parse("notify");
  o.stop_grace = std::chrono::seconds(1);
  Launch l(o);
  ASSERT_TRUE(l.wait_ready().ready);
  double cpu0 = thread_cpu_s();
  int64_t t0 = monotonic_ns();
  l.stop();
  double wall = ns_to_s(monotonic_ns() - t0);
  double cpu = thread_cpu_s() - cpu0;
  EXPECT_GT(wall, 0.9);  // the grandchild ignored SIGTERM: the whole grace period passed
  EXPECT_LT(cpu, kMaxCpuShare * wall) << cpu * 1e3 << " ms of CPU in " << wall * 1e3 << " ms";
}

}  // namespace
}  // namespace coldstart::launch
