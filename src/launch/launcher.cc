// One launch: contain, spawn, observe readiness, stop.
//
// Algorithm.
//  1. Containment, outside the timed window: mkdir a v2 cgroup
//     <v2>/coldstart/<pid>-<n> (the child is cloned straight into it with
//     CLONE_INTO_CGROUP); under limits also v1 cpu/memory cgroups the child
//     joins itself before exec. Without a writable cgroup (unprivileged), a
//     process group of its own is the fallback and the record says so.
//  2. t0 is taken right before clone3 (or at resume() of a paused start).
//  3. One epoll loop waits on: the pidfd (exit), the notify socket (READY=1),
//     the captured stdout/stderr pipes (log: and the stderr tail), and the
//     interrupt self-pipe. These are events: the instant is taken as soon as
//     epoll_pwait2 returns, except for READY=1, whose instant is the kernel's
//     timestamp of the datagram (when the service sent it; notify.cc).
//     Polled probes (tcp:, listen, http:) run between
//     waits with a back-off from 20 µs growing 1.5x to 200 µs, so detection
//     latency stays below ~200 µs while the probe costs little CPU; past
//     20 ms the interval is 1% of the time waited (at most 10 ms).
//     Every fd is re-armed once handled: cgroup.events is read again (kernfs
//     keeps EPOLLPRI set until then) and an exited pidfd leaves the set, so
//     the loop sleeps between events instead of spinning.
//  4. The tree's resources are read right after the ready instant.
//  5. Stop: SIGTERM to every process of the tree, once (signal_tree), wait
//     for cgroup.events "populated 0" (an EPOLLPRI event on that file, no
//     polling), SIGKILL via cgroup.kill after the grace period, reap the main
//     process, rmdir the cgroups. The destructor does this on every path
//     (exceptions, Ctrl-C) the owner did not.
#include "launch/launcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include <fmt/format.h>

#include "core/cgroup.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/file.h"
#include "core/signals.h"
#include "core/strings.h"
#include "image/rootfs.h"
#include "launch/exit_stats.h"
#include "launch/log_pattern.h"
#include "launch/probes.h"
#include "launch/resources.h"
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
constexpr size_t kTailBytes = 16384;

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

// Process group fallback: every process whose pgid (field 5 of /proc/<pid>/stat) is `pgid`.
std::vector<pid_t> pids_in_process_group(pid_t pgid) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    auto stat = read_text_file(std::string("/proc/") + e->d_name + "/stat");
    if (!stat) continue;
    size_t close = stat->rfind(')');
    if (close == std::string::npos) continue;
    auto f = split(std::string_view(*stat).substr(close + 2), ' ');
    if (f.size() > 2 && f[0] != "Z" && f[2] == std::to_string(pgid)) out.push_back(std::atoi(e->d_name));
  }
  ::closedir(d);
  return out;
}

std::string last_lines(const std::string& text, size_t lines) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  size_t pos = end;
  for (size_t n = 0; n < lines && pos > 0; ++n) {
    size_t nl = text.rfind('\n', pos - 1);
    pos = nl == std::string::npos ? 0 : nl + 1;
    if (nl == std::string::npos) break;
    if (n + 1 < lines) pos = nl;
  }
  if (pos < end && text[pos] == '\n') ++pos;
  return text.substr(pos, end - pos);
}

}  // namespace

CpuMax CpuMax::parse(const std::string& text) {
  auto part = [&](std::string_view p) -> uint64_t {
    std::string_view t = trim(p);
    bool bare = !t.empty() && t.find_first_not_of("0123456789") == std::string_view::npos;
    std::optional<double> s = bare ? parse_duration(std::string(t) + "us") : parse_duration(t);
    if (!s || *s <= 0) throw UserError("'" + std::string(p) + "' is not a duration");
    return s_to_us(*s);
  };
  CpuMax c;
  size_t slash = text.find('/');
  c.quota_us = part(std::string_view(text).substr(0, slash));
  if (slash != std::string::npos) c.period_us = part(std::string_view(text).substr(slash + 1));
  if (c.period_us < 1000 || c.period_us > 1000000) {
    throw UserError("the cpu.max period must be between 1ms and 1s");
  }
  if (c.quota_us < 1000) throw UserError("the cpu.max quota must be at least 1ms");
  return c;
}

struct Launch::State {
  LaunchOptions options;
  ChildProcess child;
  CgroupDir v2;
  CgroupDir v1_cpu;
  CgroupDir v1_memory;
  CgroupDir v1_cpuacct;  // only for Containment::kV2Cpu* when cpuacct is its own hierarchy
  int64_t attach_ns = 0;
  bool process_group = false;
  std::optional<NotifySocket> notify;
  UniqueFd out_read, err_read;
  std::string tail[2];   // the last kTailBytes of stdout, stderr (failures show both)
  std::string line[2];  // partial stdout/stderr lines, for log:
  std::optional<LogPattern> log_re;
  std::optional<PolledProbe> polled;
  UniqueFd epoll;
  UniqueFd events;  // v2 cgroup.events, EPOLLPRI when populated changes
  RunRecord record;
  bool waited = false;
  bool stopped = false;
  // Inside an image: the rootfs entry, then the caller's hook.
  ChildHook user_hook = nullptr;
  void* user_hook_arg = nullptr;
  static int image_hook(void* state);
  void image_timing();
  std::set<pid_t> termed;  // processes already sent SIGTERM: a stop never sends a second one
  mutable std::optional<ExitStats> exit_stats;  // exit records: peaks of processes that exit
  std::string exit_stats_why;                   // why there is no listener

  void signal_tree(int sig);

  void contain();
  void apply_limits(SpawnOptions& spawn);
  void spawn_child();
  bool on_output(int which);
  bool tree_populated();
  bool trusted_sender(const NotifyMessage& m);
  void rearm_events();
  bool wait_empty(double timeout_s);
  void finish_exit(const ExitStatus& st);
};

void Launch::State::contain() {
  const CgroupLayout& layout = cgroup_layout();
  if (options.isolation != Isolation::kProcessGroup) {
    std::string why = "no cgroup v2 hierarchy is mounted";
    if (!layout.v2.empty()) {
      auto dir = CgroupDir::create(layout.v2, next_launch_cgroup_name());
      if (dir) {
        v2 = std::move(*dir);
        record.isolation = "cgroup v2 " + v2.path();
        return;
      }
      why = dir.error();
    }
    if (options.isolation == Isolation::kCgroup || options.limits.any()) {
      throw UserError("cannot create the launch cgroup: " + why);
    }
    record.isolation = "process group (no cgroup: " + why + ")";
  } else {
    record.isolation = "process group";
  }
  process_group = true;
}

void Launch::State::apply_limits(SpawnOptions& spawn) {
  const Limits& lim = options.limits;
  const CgroupLayout& layout = cgroup_layout();
  static thread_local std::vector<UniqueFd> keep;  // procs fds live until the spawn returns
  keep.clear();
  auto attach = [&](CgroupDir& dir) {
    auto fd = dir.open_file("cgroup.procs", O_WRONLY);
    if (!fd) throw UserError(fd.error());
    spawn.attach_procs_fds.push_back(fd->get());
    keep.push_back(std::move(*fd));
  };
  auto must = [](Result<void> r) {
    if (!r) throw UserError(r.error());
  };
  // A v1 cgroup of `hierarchy` in `slot` (created once), joined before exec.
  auto v1_dir = [&](CgroupDir& slot, const std::string& hierarchy, const char* what) {
    if (slot.valid()) return;
    if (hierarchy.empty()) throw UserError(std::string("the v1 ") + what + " cgroup controller is not mounted");
    auto dir = CgroupDir::create(hierarchy, next_launch_cgroup_name());
    if (!dir) throw UserError(std::string(what) + " cgroup: " + dir.error());
    slot = std::move(*dir);
    attach(slot);
  };
  const bool v1_cpu_level = lim.containment == Containment::kV2Cpu || lim.containment == Containment::kV2CpuMemory;
  if (v1_cpu_level) {
    v1_dir(v1_cpu, layout.v1_cpu, "cpu");
    if (layout.v1_cpuacct != layout.v1_cpu) v1_dir(v1_cpuacct, layout.v1_cpuacct, "cpuacct");
  }
  if (lim.containment == Containment::kV2CpuMemory) v1_dir(v1_memory, layout.v1_memory, "memory");
  if (lim.cpu_weight) {
    if (layout.v2_has("cpu")) {
      must(v2.write("cpu.weight", std::to_string(*lim.cpu_weight)));
    } else {
      v1_dir(v1_cpu, layout.v1_cpu, "cpu");
      must(v1_cpu.write("cpu.shares", std::to_string(std::max<uint64_t>(2, *lim.cpu_weight * 1024 / 100))));
    }
  }
  if (lim.cpu_max) {
    if (layout.v2_has("cpu")) {
      must(v2.write("cpu.max", fmt::format("{} {}", lim.cpu_max->quota_us, lim.cpu_max->period_us)));
    } else {
      if (layout.v1_cpu.empty()) throw UserError("a CPU limit needs the cpu cgroup controller, which is not mounted");
      if (!v1_cpu.valid()) {
        auto dir = CgroupDir::create(layout.v1_cpu, next_launch_cgroup_name());
        if (!dir) throw UserError("CPU limit: " + dir.error());
        v1_cpu = std::move(*dir);
        attach(v1_cpu);
      }
      must(v1_cpu.write("cpu.cfs_period_us", std::to_string(lim.cpu_max->period_us)));
      must(v1_cpu.write("cpu.cfs_quota_us", std::to_string(lim.cpu_max->quota_us)));
    }
  }
  if (lim.memory_high || lim.memory_max) {
    if (layout.v2_has("memory")) {
      if (lim.memory_high) must(v2.write("memory.high", std::to_string(*lim.memory_high)));
      if (lim.memory_max) must(v2.write("memory.max", std::to_string(*lim.memory_max)));
    } else {
      if (layout.v1_memory.empty()) throw UserError("memory limits need the memory cgroup controller, which is not mounted");
      if (!v1_memory.valid()) {
        auto dir = CgroupDir::create(layout.v1_memory, next_launch_cgroup_name());
        if (!dir) throw UserError("memory limit: " + dir.error());
        v1_memory = std::move(*dir);
        attach(v1_memory);
      }
      if (lim.memory_max) must(v1_memory.write("memory.limit_in_bytes", std::to_string(*lim.memory_max)));
      if (lim.memory_high) must(v1_memory.write("memory.soft_limit_in_bytes", std::to_string(*lim.memory_high)));
    }
  }
}

void Launch::State::spawn_child() {
  // The environment: ours + the caller's, NOTIFY_SOCKET/LISTEN_* only when
  // meant for this target (never a parent supervisor's leaking through).
  std::vector<std::string> overrides = options.env;
  if (notify) overrides.push_back("NOTIFY_SOCKET=" + notify->address());
  if (!options.listen_fds.empty()) {
    std::vector<std::string> names;
    for (const auto& l : options.listen_fds) names.push_back(l.name.empty() ? "unknown" : l.name);
    overrides.push_back(fmt::format("LISTEN_FDS={}", options.listen_fds.size()));
    overrides.push_back("LISTEN_FDNAMES=" + join(names, ":"));
    overrides.push_back("LISTEN_PID=");
  }
  std::vector<std::string> env;
  for (auto& kv : options.clear_env ? overrides : environment_with(overrides)) {
    bool ours = std::find(overrides.begin(), overrides.end(), kv) != overrides.end();
    bool foreign = kv.starts_with("NOTIFY_SOCKET=") || kv.starts_with("LISTEN_FDS=") ||
                   kv.starts_with("LISTEN_PID=") || kv.starts_with("LISTEN_FDNAMES=") ||
                   kv.starts_with("WATCHDOG_USEC=") || kv.starts_with("WATCHDOG_PID=");
    if (ours || !foreign) env.push_back(std::move(kv));
  }

  SpawnOptions so;
  so.argv = options.argv;
  so.env = std::move(env);
  for (size_t i = 0; i < so.env.size(); ++i) {
    // The child completes these with its pid, as systemd sets them for the main process.
    if ((!options.listen_fds.empty() && so.env[i] == "LISTEN_PID=") || so.env[i] == "WATCHDOG_PID=")
      so.own_pid_env_indexes.push_back(static_cast<int>(i));
  }
  so.cwd = options.cwd;
  for (const auto& l : options.listen_fds) so.pass_fds.push_back(l.fd);
  so.cgroup_fd = v2.valid() ? v2.fd() : -1;
  so.new_process_group = true;
  so.paused = options.paused;
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

  UniqueFd dev_null = open_or_throw("/dev/null", O_RDWR);
  so.stdin_fd = dev_null.get();
  Pipe out, err;
  if (options.output == OutputMode::kCapture) {
    out = make_pipe();
    err = make_pipe();
    ::fcntl(out.read_end.get(), F_SETFL, O_NONBLOCK);
    ::fcntl(err.read_end.get(), F_SETFL, O_NONBLOCK);
    so.stdout_fd = out.write_end.get();
    so.stderr_fd = err.write_end.get();
  } else if (options.output == OutputMode::kDiscard) {
    so.stdout_fd = so.stderr_fd = dev_null.get();
  }
  apply_limits(so);
  if (!options.paused) so.t0_ns = &record.t0_ns;
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
  record.attach_s = ns_to_s(attach_ns);
  out_read = std::move(out.read_end);
  err_read = std::move(err.read_end);
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
  record.mount_s = ns_to_s(t.exec_ns - t.begin_ns);
  record.overlay_mount_s = ns_to_s(t.overlay_ns - t.namespace_ns);
  if (record.ready) record.exec_to_ready_s = ns_to_s(std::max<int64_t>(record.ready_ns - t.exec_ns, 0));
}

Launch::Launch(const LaunchOptions& options) : s_(std::make_unique<State>()) {
  State& s = *s_;
  s.options = options;
  if (options.argv.empty()) throw UserError("empty command");
  if (options.ready.kind == ProbeKind::kLog && options.output != OutputMode::kCapture) {
    throw UserError("a log: readiness probe needs the target's output captured");
  }
  if (options.ready.kind == ProbeKind::kNotify) s.notify = NotifySocket::create();
  if (options.ready.kind == ProbeKind::kLog) s.log_re.emplace(options.ready.pattern);
  if (options.ready.polled()) s.polled.emplace(options.ready);
  if (s.polled && s.polled->answers_already(0.5)) {
    throw UserError(fmt::format("{}:{} answers before the start: another process holds it ({})",
                                options.ready.host, options.ready.port, options.ready.text));
  }
  s.epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!s.epoll) throw_sys("epoll_create1", "");
  s.contain();
  s.exit_stats = ExitStats::open(&s.exit_stats_why);  // before the spawn, to hear the first exit
  s.spawn_child();
  if (s.v2.valid()) {
    auto events = s.v2.open_file("cgroup.events", O_RDONLY);
    if (events) s.events = std::move(*events);
  }
  epoll_add(s.epoll.get(), s.child.pidfd(), EPOLLIN, kTagExit);
  if (s.notify) epoll_add(s.epoll.get(), s.notify->fd(), EPOLLIN, kTagNotify);
  epoll_add(s.epoll.get(), s.out_read.get(), EPOLLIN, kTagStdout);
  epoll_add(s.epoll.get(), s.err_read.get(), EPOLLIN, kTagStderr);
  epoll_add(s.epoll.get(), interrupt_fd(), EPOLLIN, kTagInterrupt);
  epoll_add(s.epoll.get(), s.events.get(), EPOLLPRI, kTagEvents);
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
uint64_t Launch::cgroup_id() const { return s_->v2.valid() ? s_->v2.id() : 0; }
std::string Launch::cgroup_path() const {
  if (s_->v2.valid()) return s_->v2.path();
  if (s_->v1_cpu.valid()) return s_->v1_cpu.path();
  return s_->v1_memory.path();
}
int64_t Launch::t0_ns() const { return s_->record.t0_ns; }
NotifySocket* Launch::notify_socket() { return s_->notify ? &*s_->notify : nullptr; }
ChildProcess& Launch::process() { return s_->child; }
const RunRecord& Launch::record() const { return s_->record; }

void Launch::resume() {
  s_->record.t0_ns = monotonic_ns();
  s_->child.resume();
}

std::vector<pid_t> Launch::tree_pids() const {
  const State& s = *s_;
  if (s.v2.valid()) return s.v2.procs();
  if (s.child.pid() > 0) return pids_in_process_group(s.child.pid());
  return {};
}

ResourceUsage Launch::usage_now() const {
  const State& s = *s_;
  const rusage* reaped = s.child.status() ? &s.child.status()->usage : nullptr;
  ResourceUsage u = tree_usage(tree_pids(), reaped, &s.v2, &s.v1_cpu);
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

bool Launch::State::on_output(int which) {
  int fd = which == 0 ? out_read.get() : err_read.get();
  char buf[65536];
  bool matched = false;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) {  // EOF: stop watching, test the unterminated last line
        ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
        if (log_re && !line[which].empty() && log_re->search(line[which])) matched = true;
        line[which].clear();
        (which == 0 ? out_read : err_read).reset();
      }
      return matched;
    }
    std::string_view chunk(buf, static_cast<size_t>(n));
    tail[which].append(chunk);
    if (tail[which].size() > kTailBytes) tail[which].erase(0, tail[which].size() - kTailBytes);
    if (!log_re) continue;
    for (char c : chunk) {
      if (c != '\n') {
        if (line[which].size() < 65536) line[which].push_back(c);
        continue;
      }
      if (!matched && log_re->search(line[which])) matched = true;
      line[which].clear();
    }
  }
}

void Launch::State::finish_exit(const ExitStatus& st) { record.exit = st; }

const RunRecord& Launch::wait_ready() {
  State& s = *s_;
  if (s.waited || s.stopped) return s.record;
  if (s.child.paused()) throw UserError("wait_ready: the launch is paused; call resume() first");
  s.waited = true;
  RunRecord& r = s.record;
  const ProbeKind kind = s.options.ready.kind;
  int64_t deadline = r.t0_ns + s_to_ns(s.options.ready_timeout_s);
  int64_t backoff = kFirstPollNs;
  int64_t next_poll = r.t0_ns + backoff;
  auto tree = [this] { return tree_pids(); };
  auto mark_ready = [&](int64_t at) {
    r.ready = true;
    r.ready_ns = at;
    r.time_to_ready_s = ns_to_s(at - r.t0_ns);
  };
  epoll_event events[8];
  while (!r.ready && r.failure.empty()) {
    throw_if_interrupted();
    int64_t now = monotonic_ns();
    if (s.polled && now >= next_poll) {
      double left = ns_to_s(std::max<int64_t>(deadline - now, 0));
      if (s.polled->check(tree, std::min(left, 1.0))) {
        mark_ready(monotonic_ns());
        break;
      }
      now = monotonic_ns();
      next_poll = now + poll_interval(backoff, now - r.t0_ns);
      backoff = std::min<int64_t>(backoff * 3 / 2, kMaxPollNs);
    }
    if (now >= deadline) {
      r.failure = fmt::format("not ready after {} (waiting for {})", format_duration(s.options.ready_timeout_s),
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
          if (s.on_output(events[i].data.u64 == kTagStdout ? 0 : 1) && kind == ProbeKind::kLog && !r.ready) {
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
              deadline = std::max(deadline, m->received_ns + service_usec_to_ns(*m->extend_timeout_usec));
            }
            r.notifications.push_back(std::move(*m));
          }
          break;
        case kTagExit: exited = true; break;
        case kTagInterrupt: throw_if_interrupted(); break;
        case kTagEvents: s.rearm_events(); break;
        default: break;
      }
    }
    if (exited && !r.ready) {
      auto st = s.child.try_wait();
      if (st) {
        s.finish_exit(*st);
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
    r.stdout_tail = last_lines(s.tail[0], s.options.stderr_tail_lines);
    r.stderr_tail = last_lines(s.tail[1], s.options.stderr_tail_lines);
  }
  return r;
}

void Launch::drain_output() {
  if (s_->out_read) s_->on_output(0);
  if (s_->err_read) s_->on_output(1);
}

// A kernfs file such as cgroup.events stays ready for EPOLLPRI after a
// change until it is read again from offset 0: without this read every
// epoll_pwait2 returns at once and the wait spins a CPU that the target
// needs (a multi-threaded server's threads then wait for the next tick).
void Launch::State::rearm_events() {
  if (!events) return;
  char buf[256];
  while (::pread(events.get(), buf, sizeof buf, 0) < 0 && errno == EINTR) {
  }
}

// A datagram counts when its sender is of the tree, or (a sender that sent
// and exited before we looked) runs as us or as the target's user.
bool Launch::State::trusted_sender(const NotifyMessage& m) {
  if (m.sender_uid == ::geteuid() || (options.credentials && m.sender_uid == options.credentials->uid)) return true;
  if (m.sender_pid <= 0) return false;
  std::vector<pid_t> pids = v2.valid() ? v2.procs() : pids_in_process_group(child.pid());
  return std::find(pids.begin(), pids.end(), m.sender_pid) != pids.end();
}

// One signal to each process of the tree: the union of the v2 cgroup, the v1
// cgroups (under limits a process is in all three: signalling each hierarchy
// delivered SIGTERM two or three times) and the process group, plus the main
// process. A process already sent SIGTERM (by the owner, through
// Launch::signal_tree, or by an earlier call) is not sent it again: services
// such as redis take a second SIGTERM as "skip the clean shutdown".
void Launch::State::signal_tree(int sig) {
  std::set<pid_t> pids;
  if (v2.valid()) {
    for (pid_t p : v2.procs()) pids.insert(p);
  } else if (child.pid() > 0) {
    for (pid_t p : pids_in_process_group(child.pid())) pids.insert(p);
  }
  for (CgroupDir* d : {&v1_cpu, &v1_memory, &v1_cpuacct}) {
    if (d->valid())
      for (pid_t p : d->procs()) pids.insert(p);
  }
  child.try_wait();
  if (child.running()) pids.insert(child.pid());
  for (pid_t p : pids) {
    if (sig == SIGTERM && !termed.insert(p).second) continue;
    if (p == child.pid() && child.running()) child.signal(sig);  // by pidfd: never a reused pid
    else ::kill(p, sig);
  }
}

bool Launch::State::tree_populated() {
  if (v2.valid()) return v2.populated();
  child.try_wait();
  bool alive = child.running() || !pids_in_process_group(child.pid()).empty();
  for (CgroupDir* d : {&v1_cpu, &v1_memory, &v1_cpuacct}) alive = alive || (d->valid() && d->populated());
  return alive;
}

// Waits for the tree to be empty, reading output meanwhile so that no task
// blocks on a full pipe while shutting down. With a v2 cgroup the wake-up is
// the cgroup.events change; otherwise we look every millisecond.
bool Launch::State::wait_empty(double timeout_s) {
  const int64_t deadline = monotonic_ns() + s_to_ns(timeout_s);
  const int64_t tick = events ? 50000000 : 1000000;
  epoll_event evs[8];
  for (;;) {
    if (!tree_populated()) return true;
    int64_t now = monotonic_ns();
    if (now >= deadline) return false;
    int n = epoll_wait_ns(epoll.get(), evs, 8, std::min(deadline - now, tick));
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.u64 == kTagEvents) rearm_events();
      if (evs[i].data.u64 == kTagExit) {
        // A pidfd stays readable once its process has exited: reap it and
        // stop watching, or this wait spins while the rest of the tree ends.
        child.try_wait();
        ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, child.pidfd(), nullptr);
      }
      if (evs[i].data.u64 == kTagStdout) on_output(0);
      if (evs[i].data.u64 == kTagStderr) on_output(1);
      if (evs[i].data.u64 == kTagNotify) {
        while (notify->receive()) {
        }
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
  if (s.tree_populated()) {
    s.signal_tree(SIGTERM);  // each process once, also those an owner already sent it to
    if (!s.wait_empty(s.options.stop_grace_s)) {
      if (s.v2.valid()) s.v2.kill_all();
      else ::kill(-s.child.pid(), SIGKILL);
      for (CgroupDir* d : {&s.v1_cpu, &s.v1_memory, &s.v1_cpuacct}) {
        if (d->valid()) d->kill_all();
      }
      s.wait_empty(5.0);
    }
  }
  if (s.child.pid() > 0) {
    if (s.child.running()) s.child.signal(SIGKILL);
    ExitStatus st = s.child.wait();
    if (!s.record.exit) s.record.exit = st;
  }
  // What the tree wrote up to its end: trace --go-inittrace parses it, failures show it.
  drain_output();
  s.record.stdout_tail = last_lines(s.tail[0], s.options.stderr_tail_lines);
  s.record.stderr_tail = last_lines(s.tail[1], s.options.stderr_tail_lines);
  Result<void> removed;
  for (CgroupDir* d : {&s.v2, &s.v1_cpu, &s.v1_memory, &s.v1_cpuacct}) {
    auto r = d->remove();
    if (!r && removed) removed = r;
  }
  if (!removed) throw UserError(removed.error());
  return s.record;
}

void Launch::signal_tree(int sig) { s_->signal_tree(sig); }

void Launch::signal(pid_t pid, int sig) {
  State& s = *s_;
  if (sig == SIGTERM && !s.termed.insert(pid).second) return;
  if (pid == s.child.pid()) s.child.signal(sig);
  else ::kill(pid, sig);
}

Result<void> Launch::set_cpu_max(std::optional<CpuMax> limit) {
  State& s = *s_;
  if (cgroup_layout().v2_has("cpu") && s.v2.valid()) {
    return s.v2.write("cpu.max", limit ? fmt::format("{} {}", limit->quota_us, limit->period_us)
                                       : std::string("max"));
  }
  if (!s.v1_cpu.valid()) return unexpected("no cpu cgroup for this launch (start it with a CPU limit)");
  if (limit) {
    auto r = s.v1_cpu.write("cpu.cfs_period_us", std::to_string(limit->period_us));
    if (!r) return r;
  }
  return s.v1_cpu.write("cpu.cfs_quota_us", limit ? std::to_string(limit->quota_us) : std::string("-1"));
}

Result<void> Launch::set_memory_high(std::optional<uint64_t> bytes) {
  State& s = *s_;
  if (cgroup_layout().v2_has("memory") && s.v2.valid()) {
    return s.v2.write("memory.high", bytes ? std::to_string(*bytes) : std::string("max"));
  }
  if (!s.v1_memory.valid()) return unexpected("no memory cgroup for this launch (start it with a memory limit)");
  return s.v1_memory.write("memory.soft_limit_in_bytes", bytes ? std::to_string(*bytes) : std::string("-1"));
}

Result<void> Launch::set_memory_max(std::optional<uint64_t> bytes) {
  State& s = *s_;
  if (cgroup_layout().v2_has("memory") && s.v2.valid()) {
    return s.v2.write("memory.max", bytes ? std::to_string(*bytes) : std::string("max"));
  }
  if (!s.v1_memory.valid()) return unexpected("no memory cgroup for this launch (start it with a memory limit)");
  return s.v1_memory.write("memory.limit_in_bytes", bytes ? std::to_string(*bytes) : std::string("-1"));
}

RunRecord launch_once(const LaunchOptions& options) {
  Launch launch(options);
  if (options.paused) launch.resume();
  launch.wait_ready();
  return launch.stop();
}

}  // namespace coldstart::launch
