// The supervisor's state machine: systemd's service semantics (start timeout,
// runtime limit, watchdog, notify protocol policy, restart with back-off,
// idle stop, lazy start) as a pure object driven by events and a clock value.
// It does no I/O: it asks for actions, and the event loop (supervisor.cc)
// performs them. That keeps every timing rule unit-testable with a fake clock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/process.h"
#include "launch/notify.h"

namespace coldstart::supervise {

/// systemd's NotifyAccess=: whose sd_notify messages are accepted.
enum class NotifyAccess { kNone, kMain, kExec, kAll };
/// systemd's Restart= (the subset that matters without a unit manager).
enum class RestartPolicy { kNo, kOnFailure, kAlways };

std::optional<NotifyAccess> parse_notify_access(std::string_view text);
std::optional<RestartPolicy> parse_restart_policy(std::string_view text);
std::string_view to_string(NotifyAccess a);
std::string_view to_string(RestartPolicy r);

/// What the supervisor was told to enforce; nullopt = none.
struct LifecycleConfig {
  bool ready_by_notify = true;       // READY=1 makes it ready; else the driver's probe does
  NotifyAccess notify_access = NotifyAccess::kMain;
  std::optional<Duration> timeout_start{};
  std::optional<Duration> runtime_max{};  // counted from the ready instant, as systemd does
  std::optional<Duration> watchdog{};     // counted from spawn; WATCHDOG=1 re-arms it
  Duration timeout_stop = std::chrono::seconds(5);  // SIGTERM/SIGABRT -> SIGKILL of the tree
  RestartPolicy restart = RestartPolicy::kNo;
  int restart_limit = 5;                        // consecutive restarts before giving up
  Duration restart_delay = std::chrono::milliseconds(100);  // first back-off (systemd's RestartSec=100ms)
  Duration restart_delay_max = std::chrono::seconds(5);     // the back-off doubles up to this
  Duration restart_reset_after = std::chrono::seconds(10);  // a run this long after ready resets the count
  bool lazy = false;                   // start on the first connection
  std::optional<Duration> idle_stop{};  // stop after this long without open connections
  bool boost_until_ready = false;      // ask for the CPU limit at the ready instant
};

/// One sd_notify datagram as launch/notify.h parses it; the policy here reads
/// its `fields` in order and its `sender_pid` (SCM_CREDENTIALS).
using launch::NotifyMessage;

/// Something the event loop must do now.
struct Action {
  enum class Kind {
    kStart,       // spawn the service (again)
    kSignalMain,  // send `signal` to the main pid
    kSignalTree,  // send `signal` to every process of the service's cgroup
    kKillTree,    // SIGKILL the whole cgroup (cgroup.kill)
    kEndBoost,    // apply the CPU limit now (--boost-until-ready)
    kFinish,      // stop supervising; coldstart exits with `exit_code`
  };
  Kind kind;
  int signal = 0;
  int exit_code = 0;
  pid_t pid = 0;
  bool operator==(const Action&) const = default;
};

/// ServiceLifecycle is the supervisor's decision maker. The event loop feeds
/// it what happened (spawned, notify datagram, probe ready, exit, connection,
/// signal, clock) and executes the Actions it queues; `next_deadline()` tells
/// the loop how long it may sleep. All times are CLOCK_MONOTONIC ns.
class ServiceLifecycle {
 public:
  enum class State { kWaitingForConnection, kStarting, kRunning, kReloading, kStopping, kRestartWait, kDone };
  /// Why the current run ended or is being stopped (systemd's service result).
  enum class Reason { kNone, kExit, kStartTimeout, kRuntimeMax, kWatchdog, kUserStop, kIdle, kStartLimit };

  using Logger = std::function<void(int64_t now, std::string_view line)>;
  ServiceLifecycle(LifecycleConfig config, Logger log);

  /// Queues the first kStart, or waits for a connection when lazy.
  void begin(int64_t now);
  /// A connection is queued on a listener (lazy start, or restart after idle).
  void on_connection(int64_t now);
  /// The driver spawned the service: `pid` is its main process.
  void on_started(int64_t now, pid_t pid);
  /// A non-notify readiness probe fired.
  void on_probe_ready(int64_t now);
  /// An sd_notify datagram. `in_service(pid)` says whether a pid is in the
  /// service's cgroup (NotifyAccess=all, MAINPID= checks).
  void on_notify(int64_t now, const NotifyMessage& msg, const std::function<bool(pid_t)>& in_service);
  /// The main process ended.
  void on_main_exit(int64_t now, const ExitStatus& status);
  /// The open-connection census (polled while running with --idle-stop).
  void on_connection_count(int64_t now, size_t open);
  /// SIGTERM/SIGINT/SIGHUP to coldstart: stop everything, do not restart.
  void on_stop_request(int64_t now, int signo);
  /// Fires whatever deadline has passed.
  void on_tick(int64_t now);

  /// The earliest instant at which on_tick has work, if any.
  std::optional<int64_t> next_deadline() const;
  std::vector<Action> take_actions() { return std::exchange(actions_, {}); }

  State state() const { return state_; }
  Reason last_reason() const { return reason_; }
  pid_t main_pid() const { return main_pid_; }
  /// The ready instant of the current run, 0 before it.
  int64_t ready_at() const { return ready_at_; }
  int restarts() const { return restarts_total_; }
  const std::string& status_text() const { return status_; }
  bool wants_connection_census() const {
    return config_.idle_stop.has_value() && (state_ == State::kRunning || state_ == State::kReloading);
  }
  bool waiting_for_connection() const { return state_ == State::kWaitingForConnection; }

 private:
  void become_ready(int64_t now, std::string_view how);
  void stop(int64_t now, Reason reason, int signo, bool whole_tree);
  void after_run(int64_t now, const ExitStatus& status);
  bool sender_allowed(pid_t sender, const std::function<bool(pid_t)>& in_service) const;
  void apply_field(int64_t now, std::string_view key, std::string_view value,
                   const std::function<bool(pid_t)>& in_service);
  void log(int64_t now, std::string line) const { log_(now, line); }
  void push(Action a) { actions_.push_back(a); }

  LifecycleConfig config_;
  Logger log_;
  std::vector<Action> actions_;
  State state_ = State::kDone;
  Reason reason_ = Reason::kNone;
  pid_t main_pid_ = 0;
  bool ever_ready_ = false;
  int64_t started_at_ = 0;
  int64_t ready_at_ = 0;
  std::optional<int64_t> start_deadline_, runtime_deadline_, watchdog_deadline_, stop_deadline_,
      restart_at_, idle_since_;
  std::optional<Duration> watchdog_interval_;
  int consecutive_restarts_ = 0;
  int restarts_total_ = 0;
  ExitStatus last_status_;
  std::string status_;
};

/// The exit code a finished run mirrors: N for exit(N), 128+S for signal S.
int exit_code_of(const ExitStatus& status);

}  // namespace coldstart::supervise
