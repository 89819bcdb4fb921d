// The supervisor's state machine (systemd service semantics, no I/O).
//
//   WaitingForConnection --connection--> Starting --READY=1/probe--> Running
//   Starting --timeout-start--> Stopping      Running --runtime-max--> Stopping
//   Starting|Running --no WATCHDOG=1 in time / WATCHDOG=trigger--> Stopping (SIGABRT)
//   Running --idle-stop--> Stopping --exit--> WaitingForConnection
//   Stopping --timeout-stop--> (SIGKILL of the cgroup) --exit--> ...
//   any run --exit--> RestartWait (back-off) --> Starting | Done
//
// systemd rules kept on purpose (systemd.service(5), sd_notify(3)):
//  * RuntimeMaxSec= counts from the ready instant, not from the spawn: it is
//    no start-up timeout. The start timeout counts from the spawn.
//  * The watchdog is armed at spawn; WATCHDOG=1 re-arms it, WATCHDOG=trigger
//    fires it now, WATCHDOG_USEC= replaces the interval (0 disables it). On
//    expiry the main process gets SIGABRT (WatchdogSignal=) so it can dump
//    core, and the tree is killed if it is still there after the stop timeout.
//  * EXTEND_TIMEOUT_USEC=N moves whichever timeout is running (start, runtime,
//    stop) to at least now+N; it never shortens one.
//  * Notifications are checked against NotifyAccess= with the sender pid that
//    the kernel attached (SCM_CREDENTIALS); rejected ones are logged, as
//    systemd logs "reception only permitted for main PID". MAINPID= must name
//    a process of the service's cgroup.
//  * Within one datagram MAINPID= is applied first, then STOPPING=1, READY=1,
//    RELOADING=1, then the rest, the order systemd's service_notify_message uses.
//  * A Type=notify service that exits (even with 0) before READY=1 has failed.
//  * Restart back-off: RestartSec (100 ms) doubled per consecutive restart up to
//    a cap, and a start limit (systemd's StartLimitBurst) after which we give up;
//    a run that stayed up long enough after ready resets the count.
#include "supervise/lifecycle.h"

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstring>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/strings.h"

namespace coldstart::supervise {
namespace {

std::optional<int64_t> parse_u64(std::string_view v) {
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || n < 0) return std::nullopt;
  return n;
}

void earliest(std::optional<int64_t>& acc, const std::optional<int64_t>& t) {
  if (t && (!acc || *t < *acc)) acc = t;
}

}  // namespace

std::optional<NotifyAccess> parse_notify_access(std::string_view t) {
  if (t == "none") return NotifyAccess::kNone;
  if (t == "main") return NotifyAccess::kMain;
  if (t == "exec") return NotifyAccess::kExec;
  if (t == "all") return NotifyAccess::kAll;
  return std::nullopt;
}

std::optional<RestartPolicy> parse_restart_policy(std::string_view t) {
  if (t == "no") return RestartPolicy::kNo;
  if (t == "on-failure") return RestartPolicy::kOnFailure;
  if (t == "always") return RestartPolicy::kAlways;
  return std::nullopt;
}

std::string_view to_string(NotifyAccess a) {
  switch (a) {
    case NotifyAccess::kNone: return "none";
    case NotifyAccess::kMain: return "main";
    case NotifyAccess::kExec: return "exec";
    case NotifyAccess::kAll: return "all";
  }
  return "?";
}

std::string_view to_string(RestartPolicy r) {
  switch (r) {
    case RestartPolicy::kNo: return "no";
    case RestartPolicy::kOnFailure: return "on-failure";
    case RestartPolicy::kAlways: return "always";
  }
  return "?";
}

int exit_code_of(const ExitStatus& status) {
  if (status.signal != 0) return 128 + status.signal;
  return status.code < 0 ? 1 : status.code;
}

ServiceLifecycle::ServiceLifecycle(LifecycleConfig config, Logger log)
    : config_(std::move(config)), log_(std::move(log)) {}

void ServiceLifecycle::begin(int64_t now) {
  if (config_.lazy) {
    state_ = State::kWaitingForConnection;
    log(now, "waiting for the first connection");
    return;
  }
  state_ = State::kStarting;
  push({Action::Kind::kStart});
}

void ServiceLifecycle::on_connection(int64_t now) {
  if (state_ != State::kWaitingForConnection) return;
  log(now, "connection queued; starting the service");
  state_ = State::kStarting;
  push({Action::Kind::kStart});
}

void ServiceLifecycle::on_started(int64_t now, pid_t pid) {
  state_ = State::kStarting;
  reason_ = Reason::kNone;
  main_pid_ = pid;
  started_at_ = now;
  ready_at_ = 0;
  start_deadline_.reset();
  if (config_.timeout_start) start_deadline_ = after(now, *config_.timeout_start);
  watchdog_interval_ = config_.watchdog;
  watchdog_deadline_.reset();
  if (watchdog_interval_) watchdog_deadline_ = after(now, *watchdog_interval_);
  log(now, fmt::format("started main pid {}", pid));
}

void ServiceLifecycle::on_probe_ready(int64_t now) {
  if (state_ == State::kStarting) become_ready(now, "probe");
}

void ServiceLifecycle::become_ready(int64_t now, std::string_view how) {
  if (state_ == State::kReloading) {
    state_ = State::kRunning;
    log(now, "reload finished (READY=1)");
    return;
  }
  if (state_ != State::kStarting) return;
  state_ = State::kRunning;
  ready_at_ = now;
  start_deadline_.reset();
  if (config_.runtime_max) runtime_deadline_ = after(now, *config_.runtime_max);
  idle_since_.reset();
  log(now, fmt::format("ready ({}) {} after start", how, format_duration(between(started_at_, now))));
  if (config_.boost_until_ready) push({Action::Kind::kEndBoost});
}

bool ServiceLifecycle::sender_allowed(pid_t sender, const std::function<bool(pid_t)>& in_service) const {
  if (sender <= 0) return false;
  switch (config_.notify_access) {
    case NotifyAccess::kNone: return false;
    // Without ExecStartPost=/ExecReload= running alongside, the only process
    // systemd counts for "exec" besides the main one is absent here.
    case NotifyAccess::kMain:
    case NotifyAccess::kExec: return sender == main_pid_;
    case NotifyAccess::kAll: return sender == main_pid_ || in_service(sender);
  }
  return false;
}

void ServiceLifecycle::on_notify(int64_t now, const NotifyMessage& msg,
                                 const std::function<bool(pid_t)>& in_service) {
  if (state_ == State::kDone || state_ == State::kWaitingForConnection || state_ == State::kRestartWait) return;
  // sd_notify_barrier(): the sender waits for its fd to be closed, which the
  // receive already did. systemd handles it before any access check.
  bool barrier_only = !msg.fields.empty() && std::all_of(msg.fields.begin(), msg.fields.end(), [](const auto& f) {
    return f.first == "BARRIER" && f.second == "1";
  });
  if (barrier_only) return;
  if (!sender_allowed(msg.sender_pid, in_service)) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : msg.fields) keys.push_back(k + "=" + v);
    log(now, fmt::format("ignoring notification from pid {} (NotifyAccess={}, main pid {}): {}", msg.sender_pid,
                         to_string(config_.notify_access), main_pid_, join(keys, " ")));
    return;
  }
  static constexpr std::string_view kOrder[] = {"MAINPID", "STOPPING", "READY", "RELOADING", "STATUS",
                                                "ERRNO", "EXTEND_TIMEOUT_USEC", "WATCHDOG_USEC", "WATCHDOG"};
  for (std::string_view key : kOrder) {
    for (const auto& [k, v] : msg.fields) {
      if (k != key) continue;
      apply_field(now, k, v, in_service);
      if (state_ == State::kDone) return;
    }
  }
}

void ServiceLifecycle::apply_field(int64_t now, std::string_view key, std::string_view value,
                                   const std::function<bool(pid_t)>& in_service) {
  bool active = state_ == State::kStarting || state_ == State::kRunning || state_ == State::kReloading;
  if (key == "MAINPID") {
    auto pid = parse_u64(value);
    if (!pid || *pid <= 1 || !in_service(static_cast<pid_t>(*pid))) {
      log(now, fmt::format("ignoring MAINPID={}: not a process of the service", value));
      return;
    }
    if (static_cast<pid_t>(*pid) != main_pid_) log(now, fmt::format("main pid is now {}", *pid));
    main_pid_ = static_cast<pid_t>(*pid);
  } else if (key == "STOPPING" && value == "1") {
    if (!active) return;
    state_ = State::kStopping;
    start_deadline_.reset(), runtime_deadline_.reset(), watchdog_deadline_.reset();
    stop_deadline_ = after(now, config_.timeout_stop);
    log(now, "service is stopping (STOPPING=1)");
  } else if (key == "READY" && value == "1") {
    if (state_ == State::kStarting && !config_.ready_by_notify) return;  // another probe decides
    become_ready(now, "READY=1");
  } else if (key == "RELOADING" && value == "1") {
    if (state_ == State::kRunning) {
      state_ = State::kReloading;
      log(now, "service is reloading (RELOADING=1)");
    } else if (state_ == State::kStarting) {
      log(now, "RELOADING=1 before READY=1; still waiting for READY=1");
    }
  } else if (key == "STATUS") {
    status_ = std::string(value);
    log(now, fmt::format("status: {}", value));
  } else if (key == "ERRNO") {
    auto e = parse_u64(value);
    log(now, e ? fmt::format("service reports errno {} ({})", *e, std::strerror(static_cast<int>(*e)))
               : fmt::format("service reports ERRNO={}", value));
  } else if (key == "EXTEND_TIMEOUT_USEC") {
    auto us = parse_u64(value);
    if (!us) return;
    const Duration extension = usec(*us);
    int64_t until = after(now, extension);
    std::optional<int64_t>* t = state_ == State::kStarting  ? &start_deadline_
                                : state_ == State::kStopping ? &stop_deadline_
                                : active                     ? &runtime_deadline_
                                                             : nullptr;
    if (t != nullptr && t->has_value() && **t < until) {
      **t = until;
      log(now, fmt::format("timeout extended by the service to {} from now", format_duration(extension)));
    }
  } else if (key == "WATCHDOG_USEC") {
    auto us = parse_u64(value);
    if (!us || !active) return;
    if (*us == 0) {
      watchdog_interval_.reset(), watchdog_deadline_.reset();
      log(now, "watchdog disabled by the service (WATCHDOG_USEC=0)");
    } else {
      watchdog_interval_ = usec(*us);
      watchdog_deadline_ = after(now, *watchdog_interval_);
      log(now, fmt::format("watchdog interval set by the service to {}", format_duration(*watchdog_interval_)));
    }
  } else if (key == "WATCHDOG") {
    if (!active) return;
    if (value == "trigger") {
      log(now, "watchdog triggered by the service (WATCHDOG=trigger); sending SIGABRT");
      stop(now, Reason::kWatchdog, SIGABRT, false);
    } else if (value == "1" && watchdog_interval_) {
      watchdog_deadline_ = after(now, *watchdog_interval_);
    }
  }
}

void ServiceLifecycle::stop(int64_t now, Reason reason, int signo, bool whole_tree) {
  state_ = State::kStopping;
  reason_ = reason;
  start_deadline_.reset(), runtime_deadline_.reset(), watchdog_deadline_.reset();
  stop_deadline_ = after(now, config_.timeout_stop);
  push({whole_tree ? Action::Kind::kSignalTree : Action::Kind::kSignalMain, signo, 0, main_pid_});
}

void ServiceLifecycle::on_stop_request(int64_t now, int signo) {
  log(now, fmt::format("received {}; stopping", strsignal(signo)));
  switch (state_) {
    case State::kWaitingForConnection:
      state_ = State::kDone;
      push({Action::Kind::kFinish, 0, 0});
      return;
    case State::kRestartWait:
      state_ = State::kDone;
      push({Action::Kind::kFinish, 0, exit_code_of(last_status_) == 0 ? 1 : exit_code_of(last_status_)});
      return;
    case State::kStopping:
      reason_ = Reason::kUserStop;  // no restart after this stop, whatever started it
      return;
    case State::kDone:
      return;
    default:
      stop(now, Reason::kUserStop, SIGTERM, true);
  }
}

void ServiceLifecycle::on_connection_count(int64_t now, size_t open) {
  if (!wants_connection_census()) return;
  if (open > 0) {
    idle_since_.reset();
    return;
  }
  if (!idle_since_) idle_since_ = now;
  if (between(*idle_since_, now) >= *config_.idle_stop) {
    log(now, fmt::format("no open connection for {}; stopping (the listeners stay open)", format_duration(between(*idle_since_, now))));
    stop(now, Reason::kIdle, SIGTERM, true);
  }
}

void ServiceLifecycle::on_tick(int64_t now) {
  auto due = [now](const std::optional<int64_t>& t) { return t && *t <= now; };
  if (state_ == State::kStarting && due(start_deadline_)) {
    log(now, fmt::format("not ready {} after start (start timeout); stopping", format_duration(between(started_at_, now))));
    stop(now, Reason::kStartTimeout, SIGTERM, true);
  } else if ((state_ == State::kRunning || state_ == State::kReloading) && due(runtime_deadline_)) {
    log(now, fmt::format("ran {} after ready (runtime limit); stopping", format_duration(between(ready_at_, now))));
    stop(now, Reason::kRuntimeMax, SIGTERM, true);
  }
  if ((state_ == State::kStarting || state_ == State::kRunning || state_ == State::kReloading) &&
      due(watchdog_deadline_)) {
    log(now, fmt::format("watchdog timeout: no WATCHDOG=1 within {}; sending SIGABRT to pid {}",
                         format_duration(*watchdog_interval_), main_pid_));
    stop(now, Reason::kWatchdog, SIGABRT, false);
  }
  if (state_ == State::kStopping && due(stop_deadline_)) {
    log(now, fmt::format("still running {} after the stop signal; killing the cgroup", format_duration(config_.timeout_stop)));
    stop_deadline_.reset();
    push({Action::Kind::kKillTree});
  }
  if (state_ == State::kRestartWait && due(restart_at_)) {
    restart_at_.reset();
    state_ = State::kStarting;
    push({Action::Kind::kStart});
  }
}

void ServiceLifecycle::on_main_exit(int64_t now, const ExitStatus& wait_status) {
  if (state_ == State::kDone || state_ == State::kWaitingForConnection || state_ == State::kRestartWait) return;
  log(now, fmt::format("main pid {} ended: {}, {} after start", main_pid_, wait_status.describe(), format_duration(between(started_at_, now))));
  push({Action::Kind::kKillTree});  // what the main process left behind goes with it
  after_run(now, wait_status);
}

void ServiceLifecycle::after_run(int64_t now, const ExitStatus& status) {
  bool was_ready = ready_at_ != 0;
  last_status_ = status;
  start_deadline_.reset(), runtime_deadline_.reset(), watchdog_deadline_.reset(), stop_deadline_.reset();
  idle_since_.reset();
  int code = exit_code_of(status);
  if (reason_ == Reason::kUserStop) {
    state_ = State::kDone;
    push({Action::Kind::kFinish, 0, code});
    return;
  }
  if (reason_ == Reason::kIdle) {
    state_ = State::kWaitingForConnection;
    reason_ = Reason::kNone;
    consecutive_restarts_ = 0;
    log(now, "stopped while idle; the next connection starts it again");
    return;
  }
  bool unready_notify = config_.ready_by_notify && !was_ready;
  bool failed = reason_ == Reason::kStartTimeout || reason_ == Reason::kRuntimeMax ||
                reason_ == Reason::kWatchdog || code != 0 || unready_notify;
  if (reason_ == Reason::kNone) reason_ = Reason::kExit;
  if (unready_notify && code == 0) log(now, "the service exited before sending READY=1");
  int final_code = failed && code == 0 ? 1 : code;
  bool restart = config_.restart == RestartPolicy::kAlways ||
                 (config_.restart == RestartPolicy::kOnFailure && failed);
  if (!restart) {
    state_ = State::kDone;
    push({Action::Kind::kFinish, 0, final_code});
    return;
  }
  if (was_ready && between(ready_at_, now) >= config_.restart_reset_after) consecutive_restarts_ = 0;
  if (consecutive_restarts_ >= config_.restart_limit) {
    log(now, fmt::format("start limit hit: {} restarts in a row; giving up", consecutive_restarts_));
    reason_ = Reason::kStartLimit;
    state_ = State::kDone;
    push({Action::Kind::kFinish, 0, final_code});
    return;
  }
  Duration delay = config_.restart_delay;
  for (int i = 0; i < consecutive_restarts_ && delay < config_.restart_delay_max; ++i) delay *= 2;
  delay = std::min(delay, config_.restart_delay_max);
  ++consecutive_restarts_, ++restarts_total_;
  restart_at_ = after(now, delay);
  state_ = State::kRestartWait;
  log(now, fmt::format("restarting in {} (restart {} of at most {} in a row)", format_duration(delay), consecutive_restarts_,
                       config_.restart_limit));
}

std::optional<int64_t> ServiceLifecycle::next_deadline() const {
  std::optional<int64_t> t;
  switch (state_) {
    case State::kStarting:
      earliest(t, start_deadline_), earliest(t, watchdog_deadline_);
      break;
    case State::kRunning:
    case State::kReloading:
      earliest(t, runtime_deadline_), earliest(t, watchdog_deadline_);
      break;
    case State::kStopping: earliest(t, stop_deadline_); break;
    case State::kRestartWait: earliest(t, restart_at_); break;
    default: break;
  }
  return t;
}

}  // namespace coldstart::supervise
