// One launch: contain, spawn, observe readiness, stop.
//
// Algorithm.
//  1. Containment, outside the timed window (containment.h): a v2 cgroup the
//     child is cloned straight into, v1 cpu/memory cgroups it joins before
//     exec under limits, or a process group of its own without a cgroup.
//  2. t0 is taken right before clone3 (or at resume() of a paused start).
//  3. One epoll loop waits on: the pidfd (exit), the notify socket (READY=1),
//     the captured stdout/stderr pipes (output_capture.h: log: and the
//     tails), and the interrupt self-pipe. These are events: the instant is
//     taken as soon as epoll_pwait2 returns, except for READY=1, whose
//     instant is the kernel's timestamp of the datagram (when the service
//     sent it; notify.cc). Polled probes (tcp:, listen, http:) run between
//     waits with a back-off from 20 µs growing 1.5x to 200 µs, so detection
//     latency stays below ~200 µs while the probe costs little CPU; past
//     20 ms the interval is 1% of the time waited (at most 10 ms).
//     Every fd is re-armed once handled: cgroup.events is read again (kernfs
//     keeps EPOLLPRI set until then) and an exited pidfd leaves the set, so
//     the loop sleeps between events instead of spinning.
//  4. The tree's resources are read right after the ready instant.
//  5. Stop: SIGTERM to every process of the tree, once, wait for
//     cgroup.events "populated 0" (an EPOLLPRI event on that file, no
//     polling) while the same epoll loop keeps reading output, SIGKILL the
//     tree after the grace period, reap the main process, rmdir the cgroups.
//     The destructor does this on every path (exceptions, Ctrl-C) the owner
//     did not.
#include "launch/launcher.h"

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/signals.h"
#include "core/strings.h"
#include "image/rootfs.h"
#include "launch/containment.h"
#include "launch/exit_stats.h"
#include "launch/output_capture.h"
#include "launch/probes.h"
#include "launch/target_env.h"
#include "launch/tree_files.h"

namespace coldstart::launch {
namespace {

enum Tag : uint64_t { kTagExit = 1, kTagNotify, kTagStdout, kTagStderr, kTagInterrupt, kTagEvents };

constexpr int64_t kFirstPollNs = 20000;
constexpr int64_t kMaxPollNs = 200000;
// Past 20 ms of waiting the poll interval grows with the wait (1% of it, at
// most 10 ms): the detection error stays below 1% of what is measured while
// a long wait costs ~2% of a CPU instead of ~20% (a loopback connect or a
// sock_diag dump costs ~40 µs here, every 200 µs).
constexpr int64_t kRelativePollDivisor = 100;
constexpr int64_t kMaxRelativePollNs = 10000000;

int64_t poll_interval(int64_t backoff, int64_t waited_ns) {
  return std::max(backoff, std::min(waited_ns / kRelativePollDivisor, kMaxRelativePollNs));
}

void epoll_add(int ep, int fd, uint32_t events, uint64_t tag) {
  if (fd < 0) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) throw_sys("epoll_ctl", "ADD");
}

// Waits up to `ns` (>= 0) for events.
int epoll_wait_ns(int ep, epoll_event* events, int max, int64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  int n;
  do n = ::epoll_pwait2(ep, events, max, &ts, nullptr);
  while (n < 0 && errno == EINTR && pending_interrupt() == 0);
  return n < 0 ? 0 : n;
}

}  // namespace

struct Launch::State {
  explicit State(const LaunchOptions& o)
      : options(o),
        output(o.output, o.stderr_tail_lines, o.ready.kind == ProbeKind::kLog ? &o.ready.pattern : nullptr) {}

  LaunchOptions options;
  ChildProcess child;
  TreeContainment tree;
  int64_t attach_ns = 0;
  std::optional<NotifySocket> notify;
  OutputCapture output;
  std::optional<PolledProbe> polled;
  UniqueFd epoll;
  RunRecord record;
  bool waited = false;
  bool stopped = false;
  // Inside an image: the rootfs entry, then the caller's hook.
  ChildHook user_hook = nullptr;
  void* user_hook_arg = nullptr;
  static int image_hook(void* state);
  void image_timing();
  mutable std::optional<ExitStats> exit_stats;  // exit records: peaks of processes that exit
  std::string exit_stats_why;                   // why there is no listener

  void spawn_child();
  bool trusted_sender(const NotifyMessage& m);
  void wait_while_stopping(Duration d);
};

void Launch::State::spawn_child() {
  TargetEnvironment env = target_environment(options, notify ? notify->address() : std::string());
  SpawnOptions so;
  so.argv = options.argv;
  so.env = std::move(env.env);
  so.own_pid_env_indexes = std::move(env.own_pid_indexes);
  so.cwd = options.cwd;
  for (const auto& l : options.listen_fds) so.pass_fds.push_back(l.fd);
  // The caller may follow the tree from here on without a pause (see unpause_at_spawn).
  bool paused = options.paused && !(options.unpause_at_spawn && options.unpause_at_spawn(tree.cgroup_id()));
  so.paused = paused;
  so.hook = options.child_hook;
  so.hook_arg = options.child_hook_arg;
  so.credentials = options.credentials;
  if (options.rootfs) {
    // The notify socket's directory is bound at the same path inside.
    std::vector<std::string> binds;
    if (notify) binds.push_back(notify->address().substr(0, notify->address().rfind('/')));
    options.rootfs->set_binds(binds);
    options.rootfs->reset_timing();
    user_hook = options.child_hook;
    user_hook_arg = options.child_hook_arg;
    so.hook = &State::image_hook;
    so.hook_arg = this;
    so.program_in_hook_root = true;
    so.cwd.clear();
  }
  output.prepare_spawn(so);
  tree.prepare_spawn(so);
  if (!paused) so.t0_ns = &record.t0_ns;
  so.attach_in_window = options.attach_in_window;
  so.attach_ns = &attach_ns;
  try {
    child = spawn(so);
  } catch (const UserError& e) {
    if (options.rootfs && options.rootfs->timing().failed_step != 0) {
      throw UserError(options.rootfs->describe_failure());
    }
    throw;
  }
  record.attach_time = Duration(attach_ns);
  output.spawned();
  tree.spawned(&child);
}

int Launch::State::image_hook(void* state) {
  auto* s = static_cast<State*>(state);
  int err = image::RootfsPlan::enter(s->options.rootfs.get());
  if (err != 0 || s->user_hook == nullptr) return err;
  return s->user_hook(s->user_hook_arg);
}

// The child's own instants (shared memory), once it has exec'd.
void Launch::State::image_timing() {
  if (!options.rootfs) return;
  image::RootfsTiming t = options.rootfs->timing();
  if (t.exec_ns == 0) return;
  record.mount_time = between(t.begin_ns, t.exec_ns);
  record.overlay_mount_time = between(t.namespace_ns, t.overlay_ns);
  if (record.ready) record.exec_to_ready = std::max(between(t.exec_ns, record.ready_ns), Duration(0));
}

Launch::Launch(const LaunchOptions& options) {
  if (options.argv.empty()) throw UserError("empty command");
  if (options.ready.kind == ProbeKind::kLog && options.output != OutputMode::kCapture) {
    throw UserError("a log: readiness probe needs the target's output captured");
  }
  s_ = std::make_unique<State>(options);
  State& s = *s_;
  if (options.ready.kind == ProbeKind::kNotify) s.notify = NotifySocket::create();
  if (options.ready.polled()) s.polled.emplace(options.ready);
  if (s.polled && s.polled->answers_already(std::chrono::milliseconds(500))) {
    throw UserError(fmt::format("{}:{} answers before the start: another process holds it ({})",
                                options.ready.host, options.ready.port, options.ready.text));
  }
  s.epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!s.epoll) throw_sys("epoll_create1", "");
  s.tree = TreeContainment(options.isolation, options.limits);
  s.record.isolation = s.tree.description();
  s.exit_stats = ExitStats::open(&s.exit_stats_why);  // before the spawn, to hear the first exit
  s.spawn_child();
  epoll_add(s.epoll.get(), s.child.pidfd(), EPOLLIN, kTagExit);
  if (s.notify) epoll_add(s.epoll.get(), s.notify->fd(), EPOLLIN, kTagNotify);
  s.output.watch(s.epoll.get(), kTagStdout, kTagStderr);
  epoll_add(s.epoll.get(), interrupt_fd(), EPOLLIN, kTagInterrupt);
  epoll_add(s.epoll.get(), s.tree.events_fd(), EPOLLPRI, kTagEvents);
}

Launch::Launch(Launch&&) noexcept = default;
Launch& Launch::operator=(Launch&& other) noexcept {
  if (this != &other) {
    if (s_ && !s_->stopped) {
      try {
        stop();
      } catch (...) {
      }
    }
    s_ = std::move(other.s_);
  }
  return *this;
}

Launch::~Launch() {
  if (!s_ || s_->stopped) return;
  try {
    stop();
  } catch (...) {
    // Destructors of the members still kill and remove what is left.
  }
}

pid_t Launch::pid() const { return s_->child.pid(); }
int Launch::pidfd() const { return s_->child.pidfd(); }
uint64_t Launch::cgroup_id() const { return s_->tree.cgroup_id(); }
std::string Launch::cgroup_path() const { return s_->tree.cgroup_path(); }
int64_t Launch::t0_ns() const { return s_->record.t0_ns; }
NotifySocket* Launch::notify_socket() { return s_->notify ? &*s_->notify : nullptr; }
ChildProcess& Launch::process() { return s_->child; }
const RunRecord& Launch::record() const { return s_->record; }

void Launch::resume() {
  if (!s_->child.paused()) return;  // not started paused, or resumed already
  s_->record.t0_ns = monotonic_ns();
  s_->child.resume();
}

std::vector<pid_t> Launch::tree_pids() const { return s_->tree.pids(); }

ResourceUsage Launch::usage_now() const {
  const State& s = *s_;
  const rusage* reaped = s.child.status() ? &s.child.status()->usage : nullptr;
  ResourceUsage u = s.tree.usage(reaped);
  if (reaped != nullptr) {
    // The main process (and maybe some of its tree) has exited: its own peak
    // comes from its exit record, if we could listen for one.
    std::optional<uint64_t> exited;
    if (s.exit_stats) {
      s.exit_stats->collect(s.child.pid());
      exited = s.exit_stats->peak_rss_bytes();
    }
    if (exited) u.peak_rss_bytes = std::max(u.peak_rss_bytes, *exited);
    else u.peak_rss_known = false;
  }
  return u;
}

const RunRecord& Launch::wait_ready() {
  State& s = *s_;
  if (s.waited || s.stopped) return s.record;
  if (s.child.paused()) throw UserError("wait_ready: the launch is paused; call resume() first");
  s.waited = true;
  RunRecord& r = s.record;
  const ProbeKind kind = s.options.ready.kind;
  int64_t deadline = after(r.t0_ns, s.options.ready_timeout);
  int64_t backoff = kFirstPollNs;
  int64_t next_poll = r.t0_ns + backoff;
  auto tree = [this] { return tree_pids(); };
  auto mark_ready = [&](int64_t at) {
    r.ready = true;
    r.ready_ns = at;
    r.time_to_ready = between(r.t0_ns, at);
  };
  epoll_event events[8];
  while (!r.ready && r.failure.empty()) {
    throw_if_interrupted();
    int64_t now = monotonic_ns();
    if (s.polled && now >= next_poll) {
      Duration left = std::max(between(now, deadline), Duration(0));
      if (auto at = s.polled->check(tree, std::min<Duration>(left, std::chrono::seconds(1)))) {
        mark_ready(*at);
        break;
      }
      now = monotonic_ns();
      next_poll = now + poll_interval(backoff, now - r.t0_ns);
      backoff = std::min<int64_t>(backoff * 3 / 2, kMaxPollNs);
    }
    if (now >= deadline) {
      r.failure = fmt::format("not ready after {} (waiting for {})", format_duration(s.options.ready_timeout),
                              s.options.ready.text);
      break;
    }
    int64_t until = s.polled ? std::min(deadline, next_poll) : deadline;
    int n = epoll_wait_ns(s.epoll.get(), events, 8, std::max<int64_t>(until - now, 0));
    const int64_t t_event = monotonic_ns();
    // Output and notifications first: a READY=1 or log line sent just
    // before an exit counts as ready.
    bool exited = false;
    for (int i = 0; i < n; ++i) {
      switch (events[i].data.u64) {
        case kTagStdout:
        case kTagStderr:
          if (s.output.on_readable(events[i].data.u64 == kTagStdout ? 0 : 1) && kind == ProbeKind::kLog && !r.ready) {
            mark_ready(t_event);
          }
          break;
        case kTagNotify:
          while (auto m = s.notify->receive()) {
            // The kernel's send stamp, never before t0 (a clock step) nor after we saw it.
            // The socket accepts any uid (a service may drop privileges before
            // it notifies): the kernel's credentials say whether it is ours.
            if (m->ready && !r.ready && s.trusted_sender(*m)) mark_ready(std::clamp(m->sent_ns, r.t0_ns, t_event));
            if (m->extend_timeout_usec) {
              deadline = std::max(deadline, after(m->received_ns, usec(*m->extend_timeout_usec)));
            }
            r.notifications.push_back(std::move(*m));
          }
          break;
        case kTagExit: exited = true; break;
        case kTagInterrupt: throw_if_interrupted(); break;
        case kTagEvents: s.tree.rearm_events(); break;
        default: break;
      }
    }
    if (exited && !r.ready) {
      auto st = s.child.try_wait();
      if (st) {
        r.exit = *st;
        if (kind == ProbeKind::kExit && st->success()) mark_ready(t_event);
        else if (kind == ProbeKind::kExit) r.failure = st->describe();
        else r.failure = st->describe() + " before ready";
      }
    }
  }
  r.usage = usage_now();
  s.image_timing();
  if (s.options.collect_mapped_files) r.mapped_files = mapped_files_of(tree_pids());
  if (!r.ready) {
    drain_output();
    r.stdout_tail = s.output.tail(0);
    r.stderr_tail = s.output.tail(1);
  }
  return r;
}

void Launch::drain_output() { s_->output.drain(); }

// A datagram counts when its sender is of the tree, or (a sender that sent
// and exited before we looked) runs as us or as the target's user.
bool Launch::State::trusted_sender(const NotifyMessage& m) {
  if (m.sender_uid == ::geteuid() || (options.credentials && m.sender_uid == options.credentials->uid)) return true;
  if (m.sender_pid <= 0) return false;
  std::vector<pid_t> pids = tree.pids();
  return std::find(pids.begin(), pids.end(), m.sender_pid) != pids.end();
}

// While the tree ends: up to `d` of the launch's epoll, reading output so
// that no task blocks on a full pipe while shutting down.
void Launch::State::wait_while_stopping(Duration d) {
  epoll_event evs[8];
  int n = epoll_wait_ns(epoll.get(), evs, 8, d.count());
  for (int i = 0; i < n; ++i) {
    if (evs[i].data.u64 == kTagEvents) tree.rearm_events();
    if (evs[i].data.u64 == kTagExit) {
      // A pidfd stays readable once its process has exited: reap it and
      // stop watching, or this wait spins while the rest of the tree ends.
      child.try_wait();
      ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, child.pidfd(), nullptr);
    }
    if (evs[i].data.u64 == kTagStdout) output.on_readable(0);
    if (evs[i].data.u64 == kTagStderr) output.on_readable(1);
    if (evs[i].data.u64 == kTagNotify) {
      while (notify->receive()) {
      }
    }
  }
}

const RunRecord& Launch::stop() {
  State& s = *s_;
  if (s.stopped) return s.record;
  s.stopped = true;
  if (s.child.paused()) {
    s.child = ChildProcess();  // never exec'd: SIGKILL + reap
  }
  // The interrupt pipe stays readable after Ctrl-C: stop waiting on it.
  if (int fd = interrupt_fd(); fd >= 0) ::epoll_ctl(s.epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
  auto wait = [&s](Duration d) { s.wait_while_stopping(d); };
  if (s.tree.populated()) {
    s.tree.signal(SIGTERM);  // each process once, also those an owner already sent it to
    if (!s.tree.wait_empty(s.options.stop_grace, wait)) {
      s.tree.kill();
      s.tree.wait_empty(std::chrono::seconds(5), wait);
    }
  }
  if (s.child.pid() > 0) {
    if (s.child.running()) s.child.signal(SIGKILL);
    ExitStatus st = s.child.wait();
    if (!s.record.exit) s.record.exit = st;
  }
  // What the tree wrote up to its end: trace --go-inittrace parses it, failures show it.
  drain_output();
  s.record.stdout_tail = s.output.tail(0);
  s.record.stderr_tail = s.output.tail(1);
  if (auto removed = s.tree.remove(); !removed) throw UserError(removed.error());
  return s.record;
}

void Launch::signal_tree(int sig) { s_->tree.signal(sig); }
void Launch::signal(pid_t pid, int sig) { s_->tree.signal_one(pid, sig); }

Result<void> Launch::set_cpu_max(std::optional<CpuMax> limit) { return s_->tree.set_cpu_max(limit); }
Result<void> Launch::set_memory_high(std::optional<uint64_t> bytes) { return s_->tree.set_memory_high(bytes); }
Result<void> Launch::set_memory_max(std::optional<uint64_t> bytes) { return s_->tree.set_memory_max(bytes); }

RunRecord launch_once(const LaunchOptions& options) {
  Launch launch(options);
  launch.resume();
  launch.wait_ready();
  return launch.stop();
}

}  // namespace coldstart::launch
