// The supervisor's event loop.
//
// One ppoll() waits on everything that can change the service's state: the
// interrupt self-pipe (SIGTERM/SIGINT/SIGHUP to coldstart, core/signals.h),
// the main process's pidfd (readable at exit), the launch's notify socket
// (sd_notify datagrams with SCM_CREDENTIALS), and - only while the service is
// not running - the listening sockets (readable when a connection is queued;
// never accepted here, so the service gets every connection). The timeout is
// the lifecycle's next deadline (start timeout, watchdog, runtime max, stop
// timeout, restart back-off) or the next connection census for --idle-stop.
// After each wake-up the events go to ServiceLifecycle and the actions it
// queues are performed here: spawn through the shared launcher, signal the
// main process or every task of its cgroup, lift/apply the CPU limit, stop.
//
// MAINPID=: when the service names another process of its cgroup as its main
// process, that process's exit ends the run (main_pid.h); the started process
// may exit before it, as a daemon handing over to its child does.
//
// Readiness: with --ready notify the datagrams are read here, so NotifyAccess
// applies to READY=1 too. Other probes (tcp:, listen, http:, log:) are the
// launcher's own; its wait_ready() runs right after the spawn, bounded by the
// start timeout.
#include "supervise/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/process.h"
#include "launch/go_env.h"
#include "core/error.h"
#include "core/signals.h"
#include "core/strings.h"
#include "pagecache/apply.h"
#include "pagecache/manifest.h"
#include "supervise/connections.h"
#include "supervise/main_pid.h"

namespace coldstart::supervise {
namespace {

using Kind = Action::Kind;

std::string describe_cpu(const launch::CpuMax& c) {
  return fmt::format("{}/{} ({:.0f}% of a CPU)", format_duration(c.quota),
                     format_duration(c.period), c.cpus() * 100);
}

/// One supervision in progress: the state the loop and the action handlers share.
class Supervision {
 public:
  Supervision(const SupervisorOptions& options, const SupervisorLog& log)
      : options_(options),
        log_(log),
        lifecycle_(options.lifecycle, log) {}

  SupervisorReport run();

 private:
  void perform(const Action& a, int64_t now);
  void start(int64_t now);
  launch::LaunchOptions launch_options() const;
  void prepare_lazy_start();
  void finish_launch();
  void signal_tree(int sig);
  bool in_service(pid_t pid) const;
  void wait_and_dispatch();
  void note_ready();
  void follow_main_pid(int64_t now);

  const SupervisorOptions& options_;
  const SupervisorLog& log_;
  ServiceLifecycle lifecycle_;
  std::vector<Listener> listeners_;
  std::optional<launch::Launch> launch_;
  // --lazy: while waiting for the first connection, the next start is already
  // spawned, paused before its execve (cgroup, notify socket, clone3 done), so
  // a connection only has to resume it. Destroyed (killed, cgroup removed)
  // with the supervision if no connection comes.
  std::optional<launch::Launch> prepared_;
  // The MAINPID= process, when it is not the one we started.
  std::optional<FollowedMain> followed_main_;
  SupervisorReport report_;
  bool interrupt_handled_ = false;
  bool done_ = false;
  int64_t next_census_ = 0;
  std::optional<pagecache::Manifest> manifest_;
  std::vector<std::string> go_env_;
};

SupervisorReport Supervision::run() {
  InterruptGuard guard;  // before any spawn: Ctrl-C becomes an event, never an orphaned tree
  become_subreaper();    // a MAINPID= process whose parent exits becomes ours to reap
  report_.begin_ns = monotonic_ns();
  if (!options_.prewarm_manifest.empty()) manifest_ = pagecache::read_manifest(options_.prewarm_manifest);
  {
    // Go targets: GOMAXPROCS/GOMEMLIMIT from the limits the service will live
    // under (after the boost), by bench's rule (launch/go_env.h).
    launch::Limits steady = options_.launch.limits;
    if (options_.cpu_max_after_ready) steady.cpu_max = options_.cpu_max_after_ready;
    launch::GoRuntimeEnv go = launch::go_runtime_env(resolve_program(options_.launch.argv.at(0)), steady,
                                                     options_.launch.env);
    for (const auto& note : go.notes) log_(report_.begin_ns, "go: " + note);
    go_env_ = go.env;
  }
  listeners_ = open_listeners(options_.listen, options_.fdnames);
  for (const auto& l : listeners_) {
    ListenAddress bound = l.address();
    if (bound.kind == ListenAddress::Kind::kTcp) bound.port = l.bound_port();
    report_.listening.push_back(bound.to_string());
    log_(report_.begin_ns, fmt::format("listening on {} (fd name {})", bound.to_string(), l.name()));
  }
  lifecycle_.begin(report_.begin_ns);
  try {
    while (!done_) {
      for (const Action& a : lifecycle_.take_actions()) perform(a, monotonic_ns());
      if (done_) break;
      wait_and_dispatch();
    }
  } catch (...) {
    if (launch_) launch_->stop();  // nothing survives an error of ours either
    throw;
  }
  report_.restarts = lifecycle_.restarts();
  report_.final_reason = std::string(to_string(lifecycle_.last_reason()));
  return report_;
}

void Supervision::perform(const Action& a, int64_t now) {
  switch (a.kind) {
    case Kind::kStart: start(now); break;
    case Kind::kSignalMain:
      if (!launch_) break;
      if (a.pid == launch_->pid() || in_service(a.pid)) launch_->signal(a.pid, a.signal);  // or a MAINPID= it named
      if (!report_.starts.empty()) report_.starts.back().stop_reason = std::string(to_string(lifecycle_.last_reason()));
      break;
    case Kind::kSignalTree:
      signal_tree(a.signal);
      if (!report_.starts.empty()) report_.starts.back().stop_reason = std::string(to_string(lifecycle_.last_reason()));
      break;
    case Kind::kKillTree:
      // The main process is gone (or the stop timed out): kill what is left.
      if (launch_ && launch_->process().running() && lifecycle_.main_pid() == launch_->pid()) signal_tree(SIGKILL);
      else finish_launch();
      break;
    case Kind::kEndBoost: {
      if (!launch_ || !options_.cpu_max_after_ready) break;
      auto r = launch_->set_cpu_max(options_.cpu_max_after_ready);
      int64_t t = monotonic_ns();
      auto& s = report_.starts.back();
      if (!r) {
        log_(t, "cannot apply the CPU limit after the boost: " + r.error());
        break;
      }
      s.boost_end_ns = t;
      log_(t, fmt::format("boost ended: CPU limit {} applied {} after spawn (ready at {})",
                          describe_cpu(*options_.cpu_max_after_ready), format_duration(ns_to_s(t - s.spawn_ns)),
                          format_duration(ns_to_s(s.ready_ns - s.spawn_ns))));
      break;
    }
    case Kind::kFinish:
      finish_launch();
      report_.exit_code = a.exit_code;
      done_ = true;
      break;
  }
}

// Environment entries with a repeated name: the last one wins (the launcher
// passes duplicates through, and getenv() would see the first).
std::vector<std::string> last_wins(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  for (auto it = env.rbegin(); it != env.rend(); ++it) {
    std::string key = it->substr(0, it->find('='));
    bool seen = std::any_of(out.begin(), out.end(), [&](const std::string& kv) { return kv.substr(0, kv.find('=')) == key; });
    if (!seen) out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// ExecStartPre=: each runs to completion through the launcher (ready = exit).
// Returns the failing status, if one failed without systemd's '-' prefix.
std::optional<ExitStatus> run_pre_commands(const SupervisorOptions& options, const SupervisorLog& log) {
  for (const auto& pre : options.pre_commands) {
    launch::LaunchOptions lo = options.launch;
    lo.argv = pre.argv;
    lo.ready = launch::ReadySpec::parse("exit");
    lo.ready_timeout = options.lifecycle.timeout_start.value_or(kForever);
    lo.limits = {};
    lo.env = last_wins(lo.env);
    launch::RunRecord r = launch::launch_once(lo);
    std::string what = r.exit ? r.exit->describe() : r.failure;
    log(monotonic_ns(), fmt::format("ExecStartPre {}: {}", join(pre.argv, " "), what));
    if (!r.ready && !pre.ignore_failure) {
      if (r.exit) return *r.exit;
      return ExitStatus{.code = 1};
    }
  }
  return std::nullopt;
}

void Supervision::start(int64_t now) {
  if (manifest_) {
    pagecache::ApplyResult applied = pagecache::apply_manifest(*manifest_, {});
    log_(monotonic_ns(), fmt::format("prewarm: loaded {} of {} files ({}) in {}", applied.files_loaded,
                                     applied.files.size(), format_bytes(applied.bytes), format_duration(applied.seconds)));
    for (const auto& w : applied.warnings()) log_(monotonic_ns(), "prewarm: " + w);
  }
  if (auto failed = run_pre_commands(options_, log_)) {
    lifecycle_.on_started(now, 0);
    lifecycle_.on_main_exit(monotonic_ns(), *failed);
    return;
  }
  if (prepared_) {
    launch_ = std::move(*prepared_);
    prepared_.reset();
    launch_->resume();
  } else {
    launch_.emplace(launch_options());
  }
  StartRecord rec;
  rec.spawn_ns = launch_->t0_ns();
  rec.pid = launch_->pid();
  report_.starts.push_back(rec);
  if (options_.cpu_max_after_ready)
    log_(rec.spawn_ns, "boost: the start-up runs without the CPU limit until ready");
  lifecycle_.on_started(rec.spawn_ns, rec.pid);
  log_(rec.spawn_ns, "contained in " + launch_->record().isolation);
  if (launch_->notify_socket() == nullptr) {
    // A probe of the launcher decides readiness; an interrupt meanwhile is a stop request.
    try {
      const launch::RunRecord& r = launch_->wait_ready();
      if (r.ready) lifecycle_.on_probe_ready(r.ready_ns);
      else log_(monotonic_ns(), "not ready: " + r.failure);
    } catch (const Interrupted& e) {
      interrupt_handled_ = true;
      lifecycle_.on_stop_request(monotonic_ns(), e.signal());
    }
    note_ready();
  }
}

launch::LaunchOptions Supervision::launch_options() const {
  launch::LaunchOptions lo = options_.launch;
  lo.listen_fds = listen_fds(listeners_);
  if (options_.cpu_max_after_ready) {
    // The boost: a CPU cgroup from the start (so the limit can be set later)
    // whose quota is every CPU of the host, i.e. no limit in effect.
    launch::CpuMax all = *options_.cpu_max_after_ready;
    all.quota = all.period * std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
    lo.limits.cpu_max = all;
  }
  lo.stop_grace = options_.lifecycle.timeout_stop;
  // As systemd: WATCHDOG_PID names the main process (the launcher's child
  // writes its own pid), so a child that inherits the variables does not ping.
  if (options_.lifecycle.watchdog) {
    lo.env.push_back(fmt::format("WATCHDOG_USEC={}", to_usec(*options_.lifecycle.watchdog)));
    lo.env.push_back("WATCHDOG_PID=");
  }
  lo.env.insert(lo.env.begin(), go_env_.begin(), go_env_.end());  // never over a --env of the user
  lo.env = last_wins(lo.env);
  if (lo.ready.polled() || lo.ready.kind == launch::ProbeKind::kLog) {
    lo.ready_timeout = options_.lifecycle.timeout_start.value_or(kForever);
  }
  return lo;
}

void Supervision::prepare_lazy_start() {
  // ExecStartPre= must run before the service's process exists.
  if (prepared_ || launch_ || !options_.pre_commands.empty()) return;
  launch::LaunchOptions lo = launch_options();
  lo.paused = true;
  prepared_.emplace(lo);
}

void Supervision::finish_launch() {
  if (!launch_) return;
  if (!report_.starts.empty()) {
    // Before the stop: CPU time and, under a limit, throttling (cpu.stat of the cgroup).
    auto& s = report_.starts.back();
    s.at_end = launch_->usage_now();
    if (s.at_end.cpu_periods > 0)
      log_(monotonic_ns(), fmt::format("cpu: {} used, throttled in {} of {} periods ({})",
                                       format_duration(s.at_end.user_time + s.at_end.system_time), s.at_end.throttled_periods,
                                       s.at_end.cpu_periods, format_duration(s.at_end.throttled_time)));
  }
  const launch::RunRecord& r = launch_->stop();  // the rest of the tree, then rmdir of the cgroups
  followed_main_.reset();
  reap_orphans({prepared_ ? prepared_->pid() : 0});
  if (!report_.starts.empty()) {
    auto& s = report_.starts.back();
    s.end_ns = monotonic_ns();
    if (r.exit) s.end = r.exit->describe();
  }
  launch_.reset();
}

void Supervision::signal_tree(int sig) {
  if (!launch_) return;
  launch_->signal_tree(sig);  // each process once: the main process was signalled twice here
}

bool Supervision::in_service(pid_t pid) const {
  if (!launch_) return false;
  auto pids = launch_->tree_pids();
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

// Watches the process a MAINPID= named, once the lifecycle accepted it.
void Supervision::follow_main_pid(int64_t now) {
  if (!launch_) return;
  const pid_t main = lifecycle_.main_pid();
  if (main <= 0 || main == launch_->pid()) {
    followed_main_.reset();
    return;
  }
  if (followed_main_ && followed_main_->pid() == main) return;
  followed_main_ = FollowedMain::open(main);
  if (!followed_main_) {
    log_(now, fmt::format("main pid {} is already gone", main));
    lifecycle_.on_main_exit(now, ExitStatus{.code = 0});
  }
}

void Supervision::note_ready() {
  if (report_.starts.empty()) return;
  auto& s = report_.starts.back();
  if (s.ready_ns == 0 && lifecycle_.ready_at() != 0 && lifecycle_.ready_at() >= s.spawn_ns) s.ready_ns = lifecycle_.ready_at();
}

void Supervision::wait_and_dispatch() {
  follow_main_pid(monotonic_ns());
  enum Slot { kInterrupt, kExit, kMainExit, kNotify, kFirstListener };
  std::vector<pollfd> fds(kFirstListener, pollfd{-1, POLLIN, 0});
  if (!interrupt_handled_) fds[kInterrupt].fd = interrupt_fd();
  launch::NotifySocket* notify = launch_ ? launch_->notify_socket() : nullptr;
  if (launch_ && launch_->process().running()) fds[kExit].fd = launch_->pidfd();
  if (notify != nullptr) fds[kNotify].fd = notify->fd();
  if (followed_main_) fds[kMainExit].fd = followed_main_->pidfd();
  bool waiting = lifecycle_.waiting_for_connection();
  if (waiting) {
    prepare_lazy_start();
    for (const auto& l : listeners_) fds.push_back({l.fd(), POLLIN, 0});
  }

  int64_t now = monotonic_ns();
  std::optional<int64_t> until = lifecycle_.next_deadline();
  if (lifecycle_.wants_connection_census()) {
    if (next_census_ <= now) next_census_ = after(now, options_.census_interval);
    until = until ? std::min(*until, next_census_) : next_census_;
  }
  timespec ts{};
  timespec* timeout = nullptr;
  if (until) {
    int64_t left = std::max<int64_t>(*until - now, 0);
    ts.tv_sec = left / kNsPerSecond, ts.tv_nsec = left % kNsPerSecond;
    timeout = &ts;
  }
  int n = ::ppoll(fds.data(), fds.size(), timeout, nullptr);
  if (n < 0 && errno != EINTR) throw_sys("ppoll", "supervisor");
  now = monotonic_ns();

  if (n > 0 && fds[kInterrupt].revents != 0) {
    interrupt_handled_ = true;
    lifecycle_.on_stop_request(now, pending_interrupt());
  }
  if (n > 0 && fds[kNotify].revents != 0 && notify != nullptr) {
    while (auto m = notify->receive()) {
      for (const auto& bad : m->malformed) log_(m->received_ns, "malformed notification line: " + bad);
      // The instant the service sent it (the kernel's stamp): READY=1 and
      // watchdog pings count from then, not from when we woke up.
      lifecycle_.on_notify(m->sent_ns, *m, [this](pid_t p) { return in_service(p); });
    }
    note_ready();
  }
  if (n > 0 && fds[kExit].revents != 0) {
    if (auto st = launch_->process().try_wait()) {
      if (!followed_main_) lifecycle_.on_main_exit(now, *st);
      else log_(now, fmt::format("pid {} ended: {}; main pid {} goes on", launch_->pid(), st->describe(),
                                 followed_main_->pid()));
    }
  }
  if (n > 0 && fds[kMainExit].revents != 0 && followed_main_) {
    std::optional<ExitStatus> end = followed_main_->end();
    if (!end) log_(now, fmt::format("main pid {} ended; its exit status is unknown (not our child)",
                                    followed_main_->pid()));
    followed_main_.reset();
    lifecycle_.on_main_exit(now, end.value_or(ExitStatus{.code = 0}));
  }
  if (n > 0 && waiting) {
    for (size_t i = kFirstListener; i < fds.size(); ++i) {
      if (fds[i].revents != 0) {
        lifecycle_.on_connection(now);
        break;
      }
    }
  }
  if (lifecycle_.wants_connection_census() && now >= next_census_) {
    lifecycle_.on_connection_count(now, count_open_connections(listeners_));
    next_census_ = after(now, options_.census_interval);
  }
  lifecycle_.on_tick(now);
}

}  // namespace

std::string_view to_string(ServiceLifecycle::Reason r) {
  using R = ServiceLifecycle::Reason;
  switch (r) {
    case R::kNone: return "none";
    case R::kExit: return "exit";
    case R::kStartTimeout: return "start timeout";
    case R::kRuntimeMax: return "runtime max";
    case R::kWatchdog: return "watchdog";
    case R::kUserStop: return "stop requested";
    case R::kIdle: return "idle";
    case R::kStartLimit: return "start limit";
  }
  return "?";
}

SupervisorReport supervise(const SupervisorOptions& options, const SupervisorLog& log) {
  if (options.launch.ready.kind == launch::ProbeKind::kExit)
    throw UserError("run: readiness 'exit' does not fit a service; use notify, tcp:, listen, http: or log:");
  if (options.lifecycle.lazy && options.listen.empty())
    throw UserError("run: a lazy start needs at least one listening socket");
  if (options.lifecycle.idle_stop && options.listen.empty())
    throw UserError("run: an idle stop needs at least one listening socket (they wait for the next connection)");
  if (options.lifecycle.watchdog && options.launch.ready.kind != launch::ProbeKind::kNotify)
    throw UserError("run: a watchdog needs notify readiness (the pings are sd_notify WATCHDOG=1)");
  Supervision s(options, log);
  return s.run();
}

}  // namespace coldstart::supervise
