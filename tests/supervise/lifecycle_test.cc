// The supervisor's rules with a fake clock: every timing decision of
// ServiceLifecycle is checked here without sleeping.
#include "supervise/lifecycle.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace coldstart::supervise {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1000 * kMs;

ExitStatus exited(int code) { return ExitStatus{.code = code}; }
ExitStatus signaled(int sig) { return ExitStatus{.code = -1, .signal = sig}; }

/// Drives a ServiceLifecycle and records its log.
struct Harness {
  explicit Harness(LifecycleConfig c)
      : lc(std::move(c), [this](int64_t, std::string_view l) { log.emplace_back(l); }) {}
  std::vector<Action> act() { return lc.take_actions(); }
  static NotifyMessage msg(pid_t from, std::vector<std::pair<std::string, std::string>> f) {
    NotifyMessage m;
    m.fields = std::move(f);
    m.sender_pid = from;
    return m;
  }
  void notify(int64_t now, pid_t from, std::vector<std::pair<std::string, std::string>> f) {
    lc.on_notify(now, msg(from, std::move(f)), [this](pid_t p) { return p == 100 || p == child; });
  }
  bool logged(std::string_view needle) const {
    for (const auto& l : log)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
  pid_t child = 101;
  std::vector<std::string> log;
  ServiceLifecycle lc;
};

TEST(Lifecycle, ReadyByNotifyEndsBoostAndCancelsStartTimeout) {
  Harness h({.timeout_start = Duration(1 * kS), .boost_until_ready = true});
  h.lc.begin(0);
  EXPECT_EQ(h.act(), std::vector<Action>{{Action::Kind::kStart}});
  h.lc.on_started(0, 100);
  EXPECT_EQ(h.lc.next_deadline(), 1 * kS);
  h.notify(10 * kMs, 100, {{"READY", "1"}, {"STATUS", "serving"}});
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kRunning);
  EXPECT_EQ(h.act(), std::vector<Action>{{Action::Kind::kEndBoost}});
  EXPECT_EQ(h.lc.status_text(), "serving");
  EXPECT_FALSE(h.lc.next_deadline().has_value());
  h.lc.on_tick(5 * kS);
  EXPECT_TRUE(h.act().empty());
}

TEST(Lifecycle, NotifyAccessMainIgnoresAndLogsOtherPids) {
  Harness h({});
  h.lc.begin(0);
  h.lc.on_started(0, 100);
  h.notify(1 * kMs, 101, {{"READY", "1"}});
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kStarting);
  EXPECT_TRUE(h.logged("ignoring notification from pid 101 (NotifyAccess=main, main pid 100): READY=1"));
  h.notify(2 * kMs, 100, {{"READY", "1"}});
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kRunning);
}

TEST(Lifecycle, BarrierIsNeitherAppliedNorLoggedAsRejected) {
  Harness h({});
  h.lc.begin(0);
  h.lc.on_started(0, 100);
  h.notify(1, 101, {{"BARRIER", "1"}});
  EXPECT_TRUE(h.log.size() == 1) << h.log.back();  // only "started main pid"
}

TEST(Lifecycle, NotifyAccessAllAcceptsTheTreeButNotStrangers) {
  Harness h({.notify_access = NotifyAccess::kAll});
  h.lc.begin(0);
  h.lc.on_started(0, 100);
  h.notify(1 * kMs, 4242, {{"READY", "1"}});  // not in the cgroup
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kStarting);
  h.notify(1 * kMs, 101, {{"READY", "1"}});
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kRunning);
}

TEST(Lifecycle, NotifyAccessNoneAndMissingCredentialsAreRefused) {
  Harness h({.notify_access = NotifyAccess::kNone});
  h.lc.begin(0);
  h.lc.on_started(0, 100);
  h.notify(1, 100, {{"READY", "1"}});
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kStarting);
  Harness h2({});
  h2.lc.begin(0);
  h2.lc.on_started(0, 100);
  h2.notify(1, 0, {{"READY", "1"}});
  EXPECT_EQ(h2.lc.state(), ServiceLifecycle::State::kStarting);
}

TEST(Lifecycle, MainPidMovesNotifyAccessAndMustBeInTheService) {
  Harness h({});
  h.lc.begin(0);
  h.lc.on_started(0, 100);
  h.notify(1, 100, {{"MAINPID", "4242"}});
  EXPECT_EQ(h.lc.main_pid(), 100);
  EXPECT_TRUE(h.logged("ignoring MAINPID=4242"));
  // MAINPID is applied before READY within one datagram, so this is accepted...
  h.notify(2, 100, {{"READY", "1"}, {"MAINPID", "101"}});
  EXPECT_EQ(h.lc.main_pid(), 101);
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kRunning);
  // ...and now the old main pid is a stranger.
  h.notify(3, 100, {{"STOPPING", "1"}});
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kRunning);
}

TEST(Lifecycle, StartTimeoutStopsTheTreeAndFails) {
  Harness h({.timeout_start = Duration(1 * kS), .timeout_stop = Duration(2 * kS)});
  h.lc.begin(0);
  h.act();
  h.lc.on_started(0, 100);
  h.lc.on_tick(999 * kMs);
  EXPECT_TRUE(h.act().empty());
  h.lc.on_tick(1 * kS);
  EXPECT_EQ(h.act(), (std::vector<Action>{{Action::Kind::kSignalTree, SIGTERM, 0, 100}}));
  EXPECT_EQ(h.lc.next_deadline(), 3 * kS);
  h.lc.on_tick(3 * kS);  // ignores SIGTERM
  EXPECT_EQ(h.act(), std::vector<Action>{{Action::Kind::kKillTree}});
  h.lc.on_main_exit(3 * kS + 1, signaled(SIGKILL));
  auto a = h.act();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1], (Action{Action::Kind::kFinish, 0, 128 + SIGKILL}));
  EXPECT_EQ(h.lc.last_reason(), ServiceLifecycle::Reason::kStartTimeout);
}

TEST(Lifecycle, StartTimeoutFailsEvenIfTheServiceExitsCleanly) {
  Harness h({.timeout_start = Duration(1 * kS)});
  h.lc.begin(0), h.lc.on_started(0, 100), h.lc.on_tick(1 * kS), h.act();
  h.lc.on_main_exit(1 * kS + 5, exited(0));
  EXPECT_EQ(h.act().back(), (Action{Action::Kind::kFinish, 0, 1}));
}

TEST(Lifecycle, ExtendTimeoutMovesTheStartDeadlineButNeverShortensIt) {
  Harness h({.timeout_start = Duration(1 * kS)});
  h.lc.begin(0), h.lc.on_started(0, 100);
  h.notify(500 * kMs, 100, {{"EXTEND_TIMEOUT_USEC", "100000"}});  // now+0.1 s < 1 s: no change
  EXPECT_EQ(h.lc.next_deadline(), 1 * kS);
  h.notify(900 * kMs, 100, {{"EXTEND_TIMEOUT_USEC", "2000000"}});
  EXPECT_EQ(h.lc.next_deadline(), 2900 * kMs);
  h.lc.on_tick(2 * kS);
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kStarting);
}

TEST(Lifecycle, RuntimeMaxCountsFromReadyNotFromStart) {
  Harness h({.runtime_max = Duration(1 * kS)});
  h.lc.begin(0), h.lc.on_started(0, 100);
  h.lc.on_tick(5 * kS);  // slow start: runtime-max is no start-up timeout
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kStarting);
  h.notify(5 * kS, 100, {{"READY", "1"}});
  h.act();
  EXPECT_EQ(h.lc.next_deadline(), 6 * kS);
  h.lc.on_tick(6 * kS);
  EXPECT_EQ(h.act(), (std::vector<Action>{{Action::Kind::kSignalTree, SIGTERM, 0, 100}}));
  EXPECT_EQ(h.lc.last_reason(), ServiceLifecycle::Reason::kRuntimeMax);
}

TEST(Lifecycle, WatchdogAbortsWithoutPingsAndPingsKeepItAlive) {
  Harness h({.watchdog = Duration(1 * kS)});
  h.lc.begin(0), h.lc.on_started(0, 100), h.act();
  h.notify(100 * kMs, 100, {{"READY", "1"}});
  for (int64_t t = 800 * kMs; t < 5 * kS; t += 800 * kMs) {
    h.notify(t, 100, {{"WATCHDOG", "1"}});
    h.lc.on_tick(t + 1);
  }
  EXPECT_TRUE(h.act().empty());
  h.lc.on_tick(6 * kS);
  EXPECT_EQ(h.act(), (std::vector<Action>{{Action::Kind::kSignalMain, SIGABRT, 0, 100}}));
  EXPECT_TRUE(h.logged("watchdog timeout"));
  h.lc.on_main_exit(6 * kS + 1, signaled(SIGABRT));
  EXPECT_EQ(h.act().back(), (Action{Action::Kind::kFinish, 0, 128 + SIGABRT}));
}

TEST(Lifecycle, WatchdogTriggerAndUsecOverride) {
  Harness h({.watchdog = Duration(1 * kS)});
  h.lc.begin(0), h.lc.on_started(0, 100), h.act();
  h.notify(1, 100, {{"READY", "1"}, {"WATCHDOG_USEC", "3000000"}});
  EXPECT_EQ(h.lc.next_deadline(), 3 * kS + 1);
  h.notify(2, 100, {{"WATCHDOG_USEC", "0"}});
  EXPECT_FALSE(h.lc.next_deadline().has_value());
  h.notify(3, 100, {{"WATCHDOG", "trigger"}});
  EXPECT_EQ(h.act(), (std::vector<Action>{{Action::Kind::kSignalMain, SIGABRT, 0, 100}}));
}

TEST(Lifecycle, RestartOnFailureBacksOffAndStopsAtTheLimit) {
  Harness h({.restart = RestartPolicy::kOnFailure, .restart_limit = 3});
  h.lc.begin(0);
  int64_t now = 0;
  std::vector<int64_t> delays;
  for (int run = 0; run < 4; ++run) {
    EXPECT_EQ(h.act().back(), Action{Action::Kind::kStart});
    h.lc.on_started(now, 100 + run);
    h.notify(now + 1, 100 + run, {{"READY", "1"}});
    h.lc.on_main_exit(now + 2, exited(3));
    if (h.lc.state() == ServiceLifecycle::State::kDone) break;
    ASSERT_EQ(h.lc.state(), ServiceLifecycle::State::kRestartWait);
    int64_t at = *h.lc.next_deadline();
    delays.push_back(at - (now + 2));
    now = at;
    h.lc.on_tick(now);
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{100 * kMs, 200 * kMs, 400 * kMs}));
  EXPECT_EQ(h.act().back(), (Action{Action::Kind::kFinish, 0, 3}));
  EXPECT_EQ(h.lc.last_reason(), ServiceLifecycle::Reason::kStartLimit);
  EXPECT_EQ(h.lc.restarts(), 3);
}

TEST(Lifecycle, RestartOnFailureDoesNotRestartACleanExit) {
  Harness h({.restart = RestartPolicy::kOnFailure});
  h.lc.begin(0), h.lc.on_started(0, 100), h.notify(1, 100, {{"READY", "1"}}), h.act();
  h.lc.on_main_exit(2, exited(0));
  EXPECT_EQ(h.act().back(), (Action{Action::Kind::kFinish, 0, 0}));
}

TEST(Lifecycle, ExitBeforeReadyIsAFailureForNotifyServices) {
  Harness h({.restart = RestartPolicy::kOnFailure});
  h.lc.begin(0), h.lc.on_started(0, 100), h.act();
  h.lc.on_main_exit(2, exited(0));
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kRestartWait);
  EXPECT_TRUE(h.logged("exited before sending READY=1"));
}

TEST(Lifecycle, AlwaysRestartsAndALongRunResetsTheCount) {
  Harness h({.restart = RestartPolicy::kAlways, .restart_limit = 1});
  h.lc.begin(0), h.lc.on_started(0, 100), h.notify(1, 100, {{"READY", "1"}});
  h.lc.on_main_exit(20 * kS, exited(0));
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kRestartWait);
  h.lc.on_tick(*h.lc.next_deadline()), h.lc.on_started(21 * kS, 101), h.notify(21 * kS, 101, {{"READY", "1"}});
  h.lc.on_main_exit(40 * kS, exited(0));  // up 19 s: the count was reset, so this restarts too
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kRestartWait);
}

TEST(Lifecycle, UserStopSignalsTheTreeAndMirrorsTheExitWithoutRestart) {
  Harness h({.restart = RestartPolicy::kAlways});
  h.lc.begin(0), h.lc.on_started(0, 100), h.notify(1, 100, {{"READY", "1"}}), h.act();
  h.lc.on_stop_request(5, SIGTERM);
  EXPECT_EQ(h.act(), (std::vector<Action>{{Action::Kind::kSignalTree, SIGTERM, 0, 100}}));
  h.lc.on_main_exit(6, exited(0));
  EXPECT_EQ(h.act().back(), (Action{Action::Kind::kFinish, 0, 0}));
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kDone);
}

TEST(Lifecycle, LazyStartThenIdleStopWaitsForTheNextConnection) {
  Harness h({.lazy = true, .idle_stop = Duration(2 * kS)});
  h.lc.begin(0);
  EXPECT_TRUE(h.act().empty());
  EXPECT_TRUE(h.lc.waiting_for_connection());
  h.lc.on_connection(1 * kS);
  EXPECT_EQ(h.act(), std::vector<Action>{{Action::Kind::kStart}});
  h.lc.on_started(1 * kS, 100), h.notify(1 * kS, 100, {{"READY", "1"}});
  h.lc.on_connection_count(2 * kS, 3);
  h.lc.on_connection_count(3 * kS, 0);
  h.lc.on_connection_count(4 * kS, 1);  // activity resets the idle clock
  h.lc.on_connection_count(5 * kS, 0);
  h.lc.on_connection_count(6 * kS, 0);
  EXPECT_TRUE(h.act().empty());
  h.lc.on_connection_count(7 * kS, 0);
  EXPECT_EQ(h.act(), (std::vector<Action>{{Action::Kind::kSignalTree, SIGTERM, 0, 100}}));
  h.lc.on_main_exit(7 * kS + 1, exited(0));
  EXPECT_TRUE(h.lc.waiting_for_connection());
  h.act();
  h.lc.on_connection(9 * kS);
  EXPECT_EQ(h.act(), std::vector<Action>{{Action::Kind::kStart}});
  h.lc.on_stop_request(9 * kS, SIGINT);  // stop before it started: nothing is left to kill
  h.lc.on_started(9 * kS, 102);
}

TEST(Lifecycle, ReloadingAndStoppingNotifications) {
  Harness h({.timeout_stop = Duration(1 * kS)});
  h.lc.begin(0), h.lc.on_started(0, 100);
  h.notify(1, 100, {{"RELOADING", "1"}});
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kStarting);
  h.notify(2, 100, {{"READY", "1"}});
  h.notify(3, 100, {{"RELOADING", "1"}});
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kReloading);
  h.notify(4, 100, {{"READY", "1"}});
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kRunning);
  h.notify(5, 100, {{"STOPPING", "1"}, {"ERRNO", "2"}});
  EXPECT_EQ(h.lc.state(), ServiceLifecycle::State::kStopping);
  EXPECT_TRUE(h.logged("errno 2 (No such file or directory)"));
  EXPECT_EQ(h.lc.next_deadline(), 5 + 1 * kS);
}

}  // namespace
}  // namespace coldstart::supervise
