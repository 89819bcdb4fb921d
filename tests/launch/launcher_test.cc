// The launcher against real processes: every probe, every way a launch ends,
// and that nothing (process, cgroup) survives any of them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/cgroup.h"
#include "core/error.h"
#include "launch/launcher.h"
#include "launch_test_util.h"

namespace coldstart::launch {
namespace {

using namespace std::chrono_literals;

LaunchOptions fixture_options(std::vector<std::string> args, const std::string& ready) {
  LaunchOptions o;
  o.argv = {test::launch_fixture()};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.ready = ReadySpec::parse(ready);
  o.ready_timeout = 5s;
  return o;
}

// Waits until the launch's tree has `n` processes (the fixture forks), up to 0.2 s.
std::vector<pid_t> wait_for_tree(const Launch& l, size_t n) {
  std::vector<pid_t> tree;
  for (int i = 0; i < 200 && tree.size() < n; ++i) {
    tree = l.tree_pids();
    ::usleep(1000);
  }
  return tree;
}

TEST(Launcher, NotifyReadyThenStopRemovesEverything) {
  Launch l(fixture_options({"notify", "5"}, "notify"));
  std::string cg = l.cgroup_path();
  ASSERT_FALSE(cg.empty());
  EXPECT_TRUE(test::path_exists(cg));
  EXPECT_NE(l.cgroup_id(), 0u);
  const RunRecord& r = l.wait_ready();
  ASSERT_TRUE(r.ready) << r.failure;
  EXPECT_GE(r.time_to_ready, 5ms);
  EXPECT_LT(r.time_to_ready, 2s);
  ASSERT_FALSE(r.notifications.empty());
  EXPECT_TRUE(r.notifications.back().ready);
  EXPECT_EQ(r.notifications.back().sender_pid, l.pid());
  EXPECT_EQ(l.tree_pids(), std::vector<pid_t>{l.pid()});
  pid_t pid = l.pid();
  const RunRecord& end = l.stop();
  ASSERT_TRUE(end.exit.has_value());
  EXPECT_EQ(end.exit->signal, SIGTERM);
  EXPECT_FALSE(test::process_alive(pid));
  EXPECT_FALSE(test::path_exists(cg));
}

TEST(Launcher, ExitProbeReportsResources) {
  RunRecord r = launch_once(fixture_options({"exit", "0"}, "exit"));
  ASSERT_TRUE(r.ready) << r.failure;
  EXPECT_GT(r.time_to_ready, Duration(0));
  EXPECT_LT(r.time_to_ready, 1s);
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.exit->code, 0);
  EXPECT_GT(r.usage.minor_faults, 0u);
  // The static fixture's own peak (taskstats exit record), a few pages, which
  // the kernel's per-CPU batched counter may read as 0; never the launcher's
  // megabytes that ru_maxrss carried over the vfork-style exec (issue 16).
  EXPECT_TRUE(r.usage.peak_rss_known);
  EXPECT_LT(r.usage.peak_rss_bytes, 512u * 1024);
  EXPECT_EQ(r.usage.cpu_source, "cgroup cpu.stat");
}

TEST(Launcher, NonzeroExitWithExitProbeIsAFailure) {
  RunRecord r = launch_once(fixture_options({"exit", "3"}, "exit"));
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(r.failure, "exit code 3");
}

TEST(Launcher, CrashBeforeReadyKeepsTheStderrTail) {
  RunRecord r = launch_once(fixture_options({"crash"}, "notify"));
  EXPECT_FALSE(r.ready);
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.exit->signal, SIGABRT);
  EXPECT_NE(r.failure.find("SIGABRT"), std::string::npos) << r.failure;
  EXPECT_NE(r.failure.find("before ready"), std::string::npos) << r.failure;
  EXPECT_NE(r.stderr_tail.find("boom: bad config"), std::string::npos) << r.stderr_tail;
}

TEST(Launcher, NeverReadyTimesOutAndIsKilled) {
  LaunchOptions o = fixture_options({"never"}, "notify");
  o.ready_timeout = 200ms;
  Launch l(o);
  std::string cg = l.cgroup_path();
  pid_t pid = l.pid();
  const RunRecord& r = l.wait_ready();
  EXPECT_FALSE(r.ready);
  EXPECT_NE(r.failure.find("not ready after"), std::string::npos) << r.failure;
  l.stop();
  EXPECT_FALSE(test::process_alive(pid));
  EXPECT_FALSE(test::path_exists(cg));
}

TEST(Launcher, GrandchildIgnoringSigtermIsKilledAfterTheGrace) {
  LaunchOptions o = fixture_options({"stubborn"}, "notify");
  o.stop_grace = 200ms;
  Launch l(o);
  std::string cg = l.cgroup_path();
  ASSERT_TRUE(l.wait_ready().ready);
  std::vector<pid_t> tree = wait_for_tree(l, 2);
  ASSERT_EQ(tree.size(), 2u);
  l.stop();
  for (pid_t p : tree) EXPECT_FALSE(test::process_alive(p)) << p;
  EXPECT_FALSE(test::path_exists(cg));
}

TEST(Launcher, DestructorStopsARunningLaunch) {
  pid_t pid;
  std::string cg;
  {
    Launch l(fixture_options({"never"}, "notify"));
    pid = l.pid();
    cg = l.cgroup_path();
  }
  EXPECT_FALSE(test::process_alive(pid));
  EXPECT_FALSE(test::path_exists(cg));
}

TEST(Launcher, LogProbeMatchesCapturedStdout) {
  RunRecord r = launch_once(fixture_options({"log", "3"}, "log:ready to s.rve"));
  ASSERT_TRUE(r.ready) << r.failure;
  EXPECT_GE(r.time_to_ready, 3ms);
}

// Perl syntax (\d, \b), and neither a 60 KiB line nor a catastrophic
// pattern can crash or stall the probe (std::regex recursed per character).
TEST(Launcher, LogProbeTakesPerlSyntaxAndLongLines) {
  LaunchOptions o;
  o.argv = {"/bin/sh", "-c", "head -c 61440 /dev/zero | tr '\\0' a; echo; echo 'listening on :8081'; sleep 30"};
  o.output = OutputMode::kCapture;
  o.ready = ReadySpec::parse("log:\\blistening on :\\d+$");
  o.ready_timeout = 10s;
  RunRecord r = launch_once(o);
  EXPECT_TRUE(r.ready) << r.failure;
  o.ready = ReadySpec::parse("log:^(a+)+$b");  // exponential backtracking on the long line
  o.ready_timeout = 1s;
  r = launch_once(o);
  EXPECT_FALSE(r.ready);
  EXPECT_NE(r.failure.find("not ready after"), std::string::npos) << r.failure;
}

TEST(Launcher, NotifyHonoursStatusAndExtendTimeout) {
  LaunchOptions o = fixture_options({"status", "400"}, "notify");
  o.ready_timeout = 200ms;  // EXTEND_TIMEOUT_USEC=5s keeps it waiting
  RunRecord r = launch_once(o);
  ASSERT_TRUE(r.ready) << r.failure;
  EXPECT_GE(r.time_to_ready, 400ms);
  ASSERT_GE(r.notifications.size(), 3u);
  EXPECT_TRUE(r.notifications[0].reloading);
  EXPECT_EQ(r.notifications[0].status, "loading");
  EXPECT_EQ(r.notifications.back().status, "serving");
}

TEST(Launcher, PausedStartExposesPidAndCgroupBeforeExec) {
  LaunchOptions o = fixture_options({"notify", "1"}, "notify");
  o.paused = true;
  Launch l(o);
  EXPECT_GT(l.pid(), 0);
  EXPECT_EQ(l.t0_ns(), 0);
  EXPECT_EQ(l.tree_pids(), std::vector<pid_t>{l.pid()});
  l.resume();
  EXPECT_GT(l.t0_ns(), 0);
  EXPECT_TRUE(l.wait_ready().ready);
}

// trace's bpf backend follows the tree by its cgroup from the spawn on: the
// launcher asks it once the cgroup exists, and a "yes" takes the fast clone
// with t0 before clone3 instead of a paused fork; a "no" (or no cgroup) keeps
// the pause.
TEST(Launcher, UnpauseAtSpawnSeesTheCgroupAndSkipsThePause) {
  for (bool unpause : {true, false}) {
    LaunchOptions o = fixture_options({"notify", "1"}, "notify");
    o.paused = true;
    uint64_t seen = 0;
    int calls = 0;
    o.unpause_at_spawn = [&](uint64_t cgroup_id) {
      seen = cgroup_id;
      ++calls;
      return unpause;
    };
    Launch l(o);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(seen, l.cgroup_id());
    if (unpause) {
      EXPECT_GT(l.t0_ns(), 0);  // taken before clone3
      EXPECT_TRUE(l.wait_ready().ready);  // no resume() needed
      int64_t t0 = l.t0_ns();
      l.resume();  // does nothing now
      EXPECT_EQ(l.t0_ns(), t0);
    } else {
      EXPECT_EQ(l.t0_ns(), 0);
      l.resume();
      EXPECT_GT(l.t0_ns(), 0);
      EXPECT_TRUE(l.wait_ready().ready);
    }
  }
}

TEST(Launcher, ProcessGroupFallbackStopsTheTree) {
  LaunchOptions o = fixture_options({"stubborn"}, "notify");
  o.isolation = Isolation::kProcessGroup;
  o.stop_grace = 200ms;
  Launch l(o);
  EXPECT_TRUE(l.cgroup_path().empty());
  ASSERT_TRUE(l.wait_ready().ready);
  std::vector<pid_t> tree = wait_for_tree(l, 2);
  ASSERT_EQ(tree.size(), 2u);
  EXPECT_EQ(l.record().isolation, "process group");
  l.stop();
  for (pid_t p : tree) EXPECT_FALSE(test::process_alive(p)) << p;
}

TEST(Launcher, TcpListenAndHttpProbesOnTheUserService) {
  for (const char* spec : {"tcp:127.0.0.1:PORT", "listen", "http://127.0.0.1:PORT/users/1", "notify"}) {
    for (const char* service : {"user-service", "go-user-service-static"}) {
      uint16_t port = test::free_port();
      std::string s = spec;
      if (auto at = s.find("PORT"); at != std::string::npos) s.replace(at, 4, std::to_string(port));
      LaunchOptions o;
      o.argv = {test::fixture(service)};
      o.env = {"ADDR=127.0.0.1:" + std::to_string(port)};
      o.ready = ReadySpec::parse(s);
      o.ready_timeout = 5s;
      RunRecord r = launch_once(o);
      EXPECT_TRUE(r.ready) << service << " " << s << ": " << r.failure << r.stderr_tail;
      ASSERT_TRUE(r.exit);
      EXPECT_TRUE(r.exit->success()) << service << " " << s << ": " << r.exit->describe();
    }
  }
}

// A service that listens on a unix socket only is ready for `listen` too.
TEST(Launcher, ListenProbeSeesAUnixSocket) {
  test::TempDir dir;
  LaunchOptions o;
  o.argv = {"/usr/bin/python3", "-c",
            "import socket, time\n"
            "time.sleep(0.05)\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "s.bind('" + dir.path() + "/sock')\n"
            "s.listen()\n"
            "time.sleep(30)\n"};
  o.ready = ReadySpec::parse("listen");
  o.ready_timeout = 10s;
  RunRecord r = launch_once(o);
  EXPECT_TRUE(r.ready) << r.failure << r.stderr_tail;
  EXPECT_GE(r.time_to_ready, 50ms);
}

TEST(Launcher, CpuLimitIsAppliedAndCanBeLifted) {
  LaunchOptions o = fixture_options({"notify", "1"}, "notify");
  o.limits.cpu_max = CpuMax::parse("10ms/100ms");
  Launch l(o);
  ASSERT_TRUE(l.wait_ready().ready);
  std::string cg = l.cgroup_path();
  EXPECT_TRUE(l.set_cpu_max(std::nullopt));
  EXPECT_TRUE(l.set_cpu_max(CpuMax{20ms, 100ms}));
  EXPECT_FALSE(l.set_memory_max(1 << 30));  // no memory cgroup was asked for
  l.stop();
  EXPECT_FALSE(test::path_exists(cg));
}

TEST(Launcher, MemoryLimitUsesAMemoryCgroupAndRemovesIt) {
  LaunchOptions o = fixture_options({"notify", "1"}, "notify");
  o.limits.memory_max = 256ull << 20;
  o.limits.memory_high = 128ull << 20;
  Launch l(o);
  ASSERT_TRUE(l.wait_ready().ready);
  EXPECT_TRUE(l.set_memory_max(512ull << 20));
  EXPECT_TRUE(l.set_memory_high(std::nullopt));
  // The memory cgroup holds the target (v1 here: it joined before exec).
  const CgroupLayout& layout = cgroup_layout();
  if (!layout.v2_has("memory")) {
    std::string procs = layout.v1_memory + "/coldstart";
    bool found = false;
    for (const auto& e : std::filesystem::directory_iterator(procs)) {
      auto text = std::ifstream(e.path() / "cgroup.procs");
      pid_t p;
      while (text >> p) found = found || p == l.pid();
    }
    EXPECT_TRUE(found);
  }
  l.stop();
}

TEST(Launcher, SocketActivationPassesListenFds) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  LaunchOptions o;
  o.argv = {test::fixture("go-user-service-static")};
  o.listen_fds = {{fd, "http"}};
  o.ready = ReadySpec::parse("http://127.0.0.1:" + std::to_string(ntohs(sa.sin_port)) + "/users/1");
  RunRecord r = launch_once(o);
  ::close(fd);
  EXPECT_TRUE(r.ready) << r.failure << r.stderr_tail;
}

TEST(Launcher, MissingProgramThrowsAndLeavesNoCgroup) {
  LaunchOptions o;
  o.argv = {"/nonexistent/service"};
  EXPECT_THROW(launch_once(o), UserError);
}

TEST(CpuMax, Parses) {
  EXPECT_EQ(CpuMax::parse("50ms").quota, 50ms);
  EXPECT_EQ(CpuMax::parse("50ms").period, 100ms);
  EXPECT_EQ(CpuMax::parse("25000/50000").period, 50ms);
  EXPECT_THROW(CpuMax::parse("fast"), UserError);
  EXPECT_THROW(CpuMax::parse("50ms/5s"), UserError);
}

}  // namespace
}  // namespace coldstart::launch
