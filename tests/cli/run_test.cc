// End-to-end behaviour of `coldstart run`, one test per user-visible
// behaviour, with the real fixtures (Go and launch-fixture), real sockets and
// real cgroups. coldstart runs in the background; every test stops it by pid
// and checks that nothing of the service is left.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "background.h"
#include "test_util.h"

extern char** environ;

namespace coldstart {
namespace {

using namespace std::chrono_literals;


using test::free_port;

/// GET /users/1 on 127.0.0.1:port over a fresh connection; the HTTP status
/// line's code, or -1 if the connection failed or was reset.
int http_get(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int code = -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    const char req[] = "GET /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (::send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof req - 1)) {
      char buf[512];
      ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
      if (n > 12) code = std::atoi(buf + 9);
    }
  }
  ::close(fd);
  return code;
}

using test::Background;

std::vector<std::string> run_args(std::vector<std::string> extra) {
  std::vector<std::string> a = {test::coldstart_binary(), "run"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(Run, SocketActivationPassesWhatSystemdSocketActivatePasses) {
  test::TempDir dir;
  std::string probe = test::source_path("tests/cli/run_probe.sh");
  uint16_t p1 = free_port(), p2 = free_port();
  std::string a1 = "127.0.0.1:" + std::to_string(p1), a2 = "127.0.0.1:" + std::to_string(p2);

  Background ssa({"/usr/bin/systemd-socket-activate", "-l", a1, "-l", a2, "--fdname=web", "--fdname=admin",
                  "/bin/sh", probe, dir.path() + "/ssa"});
  ASSERT_TRUE(ssa.wait_for_log("Listening on " + a2));
  http_get(p1);  // systemd-socket-activate execs the service at the first connection
  ASSERT_EQ(ssa.wait(10s), 0) << ssa.err();

  Background run(run_args({"--ready", "listen", "--listen", "tcp:" + a1, "--listen", "tcp:" + a2, "--fdname", "web",
                           "--fdname", "admin", "--", "/bin/sh", probe, dir.path() + "/run"}));
  ASSERT_EQ(run.wait(10s), 0) << run.err();

  std::string seen_ssa = test::read_text(dir.path() + "/ssa"), seen_run = test::read_text(dir.path() + "/run");
  EXPECT_NE(seen_ssa.find("LISTEN_FDS=2\nLISTEN_FDNAMES=web:admin\nLISTEN_PID=self\n"), std::string::npos) << seen_ssa;
  EXPECT_NE(seen_ssa.find("state=0A"), std::string::npos) << seen_ssa;  // a TCP socket in LISTEN
  EXPECT_EQ(seen_run, seen_ssa);
}

TEST(Run, LazyStartLosesNoneOfManyConcurrentClients) {
  uint16_t port = free_port();
  Background run(run_args({"--lazy", "--listen", "tcp:127.0.0.1:" + std::to_string(port), "--",
                           test::fixture("go-user-service-static")}));
  ASSERT_TRUE(run.wait_for_log("waiting for the first connection"));
  // Every client connects before the service exists; the kernel queues them.
  constexpr int kClients = 200;
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) clients.emplace_back([&] { (http_get(port) == 200 ? ok : failed)++; });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(count(run.err(), "started main pid"), 1u) << run.err();
  run.signal(SIGTERM);
  EXPECT_EQ(run.wait(10s), 0) << run.err();  // the Go service shuts down cleanly and exits 0
}

TEST(Run, IdleStopThenTheNextConnectionStartsItAgain) {
  uint16_t port = free_port();
  Background run(run_args({"--lazy", "--idle-stop", "300ms", "--listen", "tcp:127.0.0.1:" + std::to_string(port),
                           "--json", "--", test::fixture("go-user-service-static")}));
  ASSERT_TRUE(run.wait_for_log("waiting for the first connection"));
  EXPECT_EQ(http_get(port), 200);
  ASSERT_TRUE(run.wait_for_log("stopped while idle")) << run.err();
  EXPECT_EQ(http_get(port), 200);
  ASSERT_TRUE(run.wait_for_log("main pid", 10s));
  run.signal(SIGINT);
  ASSERT_TRUE(run.wait(10s).has_value()) << run.err();
  auto j = nlohmann::json::parse(run.out());
  ASSERT_GE(j["starts"].size(), 2u) << run.err();
  EXPECT_EQ(j["starts"][0]["stopped_for"], "idle");
  EXPECT_TRUE(j["starts"][1]["time_to_ready"].is_number());
}

TEST(Run, TimeoutStartStopsAServiceThatNeverGetsReady) {
  Background run(run_args({"--timeout-start", "300ms", "--timeout-stop", "2s", "--", test::fixture("launch-fixture"),
                           "never"}));
  auto code = run.wait(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_NE(run.err().find("not ready"), std::string::npos) << run.err();
  EXPECT_NE(run.out().find("never ready"), std::string::npos) << run.out();
}

TEST(Run, RuntimeMaxIsNoStartTimeout) {
  // Ready after 400 ms, runtime max 300 ms: it must become ready, then be stopped.
  Background run(run_args({"--runtime-max", "300ms", "--", test::fixture("launch-fixture"), "notify", "400"}));
  auto code = run.wait(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);  // stopped for exceeding its runtime: a failure, as in systemd
  EXPECT_NE(run.err().find("ready (READY=1)"), std::string::npos) << run.err();
  EXPECT_NE(run.err().find("(runtime limit)"), std::string::npos) << run.err();
}

TEST(Run, MissingWatchdogPingAbortsTheService) {
  Background run(run_args({"--watchdog", "300ms", "--", test::fixture("launch-fixture"), "notify", "0"}));
  auto code = run.wait(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 128 + SIGABRT) << run.err();
  EXPECT_NE(run.err().find("watchdog timeout"), std::string::npos) << run.err();
}

TEST(Run, WatchdogPingsKeepTheServiceAlive) {
  // A shell that pings every 100 ms under a 400 ms watchdog, then exits cleanly.
  std::string script =
      "systemd-notify --ready; for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.1; systemd-notify WATCHDOG=1; done; "
      "[ -n \"$WATCHDOG_USEC\" ] && [ \"$WATCHDOG_PID\" = $$ ] && exit 0 || exit 9";
  Background run(run_args({"--watchdog", "400ms", "--", "/bin/sh", "-c", script}));
  EXPECT_EQ(run.wait(20s), 0) << run.err();
  EXPECT_EQ(run.err().find("watchdog timeout"), std::string::npos) << run.err();
}

TEST(Run, RestartOnFailureRestartsACrashAndGivesUpAtTheLimit) {
  Background run(run_args({"--restart", "on-failure", "--restart-limit", "2", "--", test::fixture("launch-fixture"),
                           "crash"}));
  auto code = run.wait(20s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 128 + SIGABRT);
  EXPECT_EQ(count(run.err(), "started main pid"), 3u) << run.err();
  EXPECT_NE(run.err().find("start limit hit"), std::string::npos) << run.err();
}

TEST(Run, NotifyAccessMainIgnoresAChildAndAllAcceptsIt) {
  // The main process (sh) has a child shell send READY=1, then exits after a while.
  std::string script = "sh -c 'systemd-notify --ready; true'; sleep 0.5";
  Background main_only(run_args({"--", "/bin/sh", "-c", script}));
  auto code = main_only.wait(20s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1) << main_only.err();  // exited without an accepted READY=1
  EXPECT_NE(main_only.err().find("ignoring notification from pid"), std::string::npos) << main_only.err();
  EXPECT_NE(main_only.err().find("(NotifyAccess=main"), std::string::npos) << main_only.err();

  Background all(run_args({"--notify-access", "all", "--", "/bin/sh", "-c", script}));
  EXPECT_EQ(all.wait(20s), 0) << all.err();
  EXPECT_NE(all.err().find("ready (READY=1)"), std::string::npos) << all.err();
}

TEST(Run, MainpidHandsTheServiceToAChildThatOutlivesTheStartedProcess) {
  // A daemon's hand-over: the started shell names its background child as the
  // main process, then exits 0; the service lives on until that child exits 3.
  std::string script = "sh -c 'sleep 0.6; exit 3' & systemd-notify --ready --pid=$!; sleep 0.2; exit 0";
  Background run(run_args({"--notify-access", "all", "--", "/bin/sh", "-c", script}));
  auto code = run.wait(20s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 3) << run.err();  // the new main process's status, reaped as its subreaper
  EXPECT_NE(run.err().find("main pid is now"), std::string::npos) << run.err();
  EXPECT_NE(run.err().find("ended: exit code 0; main pid"), std::string::npos) << run.err();
  EXPECT_NE(run.err().find("ended: exit code 3"), std::string::npos) << run.err();
}

TEST(Run, SigtermStopsTheWholeTreeIncludingAStubbornGrandchild) {
  Background run(run_args({"--timeout-stop", "300ms", "--", test::fixture("launch-fixture"), "stubborn"}));
  ASSERT_TRUE(run.wait_for_log("ready (READY=1)")) << run.err();
  run.signal(SIGTERM);
  auto code = run.wait(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 128 + SIGTERM);  // mirrors the main process, which SIGTERM ended
  // The grandchild ignored SIGTERM; the cgroup can only be gone if it is too.
  std::string err = run.err();
  auto at = err.find("contained in cgroup v2 ");
  ASSERT_NE(at, std::string::npos) << err;
  std::string cgroup = err.substr(at + 23, err.find('\n', at) - at - 23);
  EXPECT_FALSE(test::run_shell("test -d " + cgroup).exit_code == 0) << cgroup;
  EXPECT_NE(err.find("main pid"), std::string::npos) << err;
}

TEST(Run, BoostUntilReadyAppliesTheCpuLimitAtTheReadyInstant) {
  Background run(run_args({"--cpu-max", "10ms/100ms", "--boost-until-ready", "--json", "--",
                           test::fixture("launch-fixture"), "notify", "50"}));
  ASSERT_TRUE(run.wait_for_log("boost ended")) << run.err();
  run.signal(SIGTERM);
  ASSERT_TRUE(run.wait(10s).has_value());
  auto j = nlohmann::json::parse(run.out());
  auto s = j["starts"][0];
  ASSERT_TRUE(s["boost_end"].is_number()) << run.out();
  EXPECT_GE(s["boost_end"].get<double>(), s["ready"].get<double>());
  EXPECT_NE(run.err().find("(10% of a CPU) applied"), std::string::npos) << run.err();
}

TEST(Run, UnitAndSocketFilesStartTheGoServiceLazily) {
  test::TempDir dir;
  uint16_t port = free_port();
  std::ofstream(dir.path() + "/users.service") << "[Unit]\nDescription=users\n[Service]\nType=notify\n"
                                               << "ExecStart=" << test::fixture("go-user-service-static") << "\n"
                                               << "Environment=GODEBUG=madvdontneed=1\nTimeoutStartSec=10s\n"
                                               << "PrivateTmp=yes\n";
  std::ofstream(dir.path() + "/users.socket") << "[Socket]\nListenStream=127.0.0.1:" << port << "\n";
  Background run(run_args({"--unit", dir.path() + "/users.service", "--lazy"}));
  ASSERT_TRUE(run.wait_for_log("waiting for the first connection")) << run.err();
  EXPECT_NE(run.err().find("not supported by coldstart run (ignored): Service.PrivateTmp"), std::string::npos)
      << run.err();
  EXPECT_NE(run.err().find("(fd name users.socket)"), std::string::npos) << run.err();
  EXPECT_EQ(http_get(port), 200);
  run.signal(SIGTERM);
  EXPECT_EQ(run.wait(10s), 0) << run.err();
}

TEST(Run, GoServiceGetsGomaxprocsFromTheCpuLimitItLivesUnder) {
  uint16_t port = free_port();
  Background run(run_args({"--cpu-max", "50ms/100ms", "--boost-until-ready", "--env",
                           "ADDR=127.0.0.1:" + std::to_string(port), "--", test::fixture("go-user-service-static")}));
  ASSERT_TRUE(run.wait_for_log("boost ended")) << run.err();
  std::string err = run.err();
  EXPECT_NE(err.find("go: "), std::string::npos) << err;
  auto at = err.find("started main pid ");
  ASSERT_NE(at, std::string::npos);
  std::string env = test::read_text("/proc/" + std::to_string(std::atoi(err.c_str() + at + 17)) + "/environ");
  EXPECT_NE(env.find(std::string("GOMAXPROCS=1") + '\0'), std::string::npos);
  run.signal(SIGTERM);
  EXPECT_EQ(run.wait(10s), 0) << run.err();
}

TEST(Run, BadInputIsOneLineAndExit2) {
  for (const char* args : {"run --listen udp:1.2.3.4:5 -- /bin/true", "run --restart sometimes -- /bin/true",
                           "run --lazy -- /bin/true", "run --ready exit -- /bin/true", "run",
                           "run --timeout-start soon -- /bin/true", "run --boost-until-ready -- /bin/true"}) {
    auto r = test::run_shell(test::coldstart_binary() + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_TRUE(r.err.starts_with("coldstart: error: ")) << args << ": " << r.err;
    EXPECT_EQ(count(r.err, "\n"), 1u) << args << ": " << r.err;
  }
}

}  // namespace
}  // namespace coldstart
