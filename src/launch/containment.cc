// A launch's containment: which cgroups, their limits, and the tree's end.
//
// Creation happens outside the timed window: mkdir of a v2 cgroup
// <v2>/coldstart/<pid>-<n> (the child is cloned straight into it with
// CLONE_INTO_CGROUP); under limits also v1 cpu/memory cgroups the child joins
// itself before exec (their cgroup.procs fds are opened here). Without a
// writable cgroup (unprivileged) a process group of its own is the fallback,
// and description() says so.
//
// Every limit has one writer (write_* below), used both when the launch is
// created and at run time (run --boost-until-ready lifts the CPU quota at the
// ready instant): v2 files where the v2 hierarchy has the controller, else
// the v1 equivalents (cpu.cfs_*, memory.limit_in_bytes, ...).
#include "launch/containment.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/file.h"
#include "core/strings.h"
#include "launch/resources.h"

namespace coldstart::launch {
namespace {

void must(Result<void> r) {
  if (!r) throw UserError(r.error());
}

// The one writer of each limit: `v2` when it has the controller, else `v1`.
Result<void> write_cpu_max(const CgroupDir& v2, const CgroupDir& v1_cpu, const std::optional<CpuMax>& limit) {
  if (cgroup_layout().v2_has("cpu") && v2.valid()) {
    return v2.write("cpu.max",
                    limit ? fmt::format("{} {}", to_usec(limit->quota), to_usec(limit->period)) : std::string("max"));
  }
  if (!v1_cpu.valid()) return unexpected("no cpu cgroup for this launch (start it with a CPU limit)");
  if (limit) {
    auto r = v1_cpu.write("cpu.cfs_period_us", std::to_string(to_usec(limit->period)));
    if (!r) return r;
  }
  return v1_cpu.write("cpu.cfs_quota_us", limit ? std::to_string(to_usec(limit->quota)) : std::string("-1"));
}

Result<void> write_memory(const CgroupDir& v2, const CgroupDir& v1_memory, const char* v2_file, const char* v1_file,
                          const std::optional<uint64_t>& bytes) {
  if (cgroup_layout().v2_has("memory") && v2.valid()) {
    return v2.write(v2_file, bytes ? std::to_string(*bytes) : std::string("max"));
  }
  if (!v1_memory.valid()) return unexpected("no memory cgroup for this launch (start it with a memory limit)");
  return v1_memory.write(v1_file, bytes ? std::to_string(*bytes) : std::string("-1"));
}

}  // namespace

CpuMax CpuMax::parse(const std::string& text) {
  auto part = [&](std::string_view p) -> Duration {
    std::string_view t = trim(p);
    bool bare = !t.empty() && t.find_first_not_of("0123456789") == std::string_view::npos;
    std::optional<double> s = bare ? parse_duration(std::string(t) + "us") : parse_duration(t);
    if (!s || *s <= 0) throw UserError("'" + std::string(p) + "' is not a duration");
    return std::chrono::microseconds(s_to_us(*s));  // cpu.max holds whole µs
  };
  CpuMax c;
  size_t slash = text.find('/');
  c.quota = part(std::string_view(text).substr(0, slash));
  if (slash != std::string::npos) c.period = part(std::string_view(text).substr(slash + 1));
  if (c.period < std::chrono::milliseconds(1) || c.period > std::chrono::seconds(1)) {
    throw UserError("the cpu.max period must be between 1ms and 1s");
  }
  if (c.quota < std::chrono::milliseconds(1)) throw UserError("the cpu.max quota must be at least 1ms");
  return c;
}


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

TreeContainment::TreeContainment(Isolation isolation, const Limits& limits) {
  const CgroupLayout& layout = cgroup_layout();
  if (isolation == Isolation::kProcessGroup) {
    description_ = "process group";
  } else {
    std::string why = "no cgroup v2 hierarchy is mounted";
    if (!layout.v2.empty()) {
      auto dir = CgroupDir::create(layout.v2, next_launch_cgroup_name());
      if (dir) v2_ = std::move(*dir);
      else why = dir.error();
    }
    if (v2_.valid()) {
      description_ = "cgroup v2 " + v2_.path();
    } else {
      if (isolation == Isolation::kCgroup || limits.any()) {
        throw UserError("cannot create the launch cgroup: " + why);
      }
      description_ = "process group (no cgroup: " + why + ")";
    }
  }
  apply_limits(limits);
}

// A v1 cgroup of `hierarchy` in `slot`, created once; the child joins it
// through the cgroup.procs fd opened here.
void TreeContainment::create_v1(CgroupDir& slot, const std::string& hierarchy, const std::string& why_absent,
                                const std::string& what) {
  if (slot.valid()) return;
  if (hierarchy.empty()) throw UserError(why_absent);
  auto dir = CgroupDir::create(hierarchy, next_launch_cgroup_name());
  if (!dir) throw UserError(what + ": " + dir.error());
  slot = std::move(*dir);
  auto fd = slot.open_file("cgroup.procs", O_WRONLY);
  if (!fd) throw UserError(fd.error());
  attach_fds_.push_back(std::move(*fd));
}

void TreeContainment::apply_limits(const Limits& lim) {
  const CgroupLayout& layout = cgroup_layout();
  auto level = [&](CgroupDir& slot, const std::string& hierarchy, const char* what) {
    create_v1(slot, hierarchy, std::string("the v1 ") + what + " cgroup controller is not mounted",
              std::string(what) + " cgroup");
  };
  const bool v1_cpu_level = lim.containment == Containment::kV2Cpu || lim.containment == Containment::kV2CpuMemory;
  if (v1_cpu_level) {
    level(v1_cpu_, layout.v1_cpu, "cpu");
    if (layout.v1_cpuacct != layout.v1_cpu) level(v1_cpuacct_, layout.v1_cpuacct, "cpuacct");
  }
  if (lim.containment == Containment::kV2CpuMemory) level(v1_memory_, layout.v1_memory, "memory");
  if (lim.cpu_weight) {
    if (layout.v2_has("cpu")) {
      must(v2_.write("cpu.weight", std::to_string(*lim.cpu_weight)));
    } else {
      level(v1_cpu_, layout.v1_cpu, "cpu");
      must(v1_cpu_.write("cpu.shares", std::to_string(std::max<uint64_t>(2, *lim.cpu_weight * 1024 / 100))));
    }
  }
  if (lim.cpu_max) {
    if (!layout.v2_has("cpu")) {
      create_v1(v1_cpu_, layout.v1_cpu, "a CPU limit needs the cpu cgroup controller, which is not mounted",
                "CPU limit");
    }
    must(set_cpu_max(lim.cpu_max));
  }
  if (lim.memory_high || lim.memory_max) {
    if (!layout.v2_has("memory")) {
      create_v1(v1_memory_, layout.v1_memory, "memory limits need the memory cgroup controller, which is not mounted",
                "memory limit");
    }
    if (lim.memory_max) must(set_memory_max(lim.memory_max));
    if (lim.memory_high) must(set_memory_high(lim.memory_high));
  }
}

void TreeContainment::prepare_spawn(SpawnOptions& spawn) const {
  spawn.cgroup_fd = v2_.valid() ? v2_.fd() : -1;
  for (const auto& fd : attach_fds_) spawn.attach_procs_fds.push_back(fd.get());
  spawn.new_process_group = true;
}

void TreeContainment::spawned(ChildProcess* main) {
  main_ = main;
  attach_fds_.clear();  // the child joined (or the spawn failed)
  if (v2_.valid()) {
    auto events = v2_.open_file("cgroup.events", O_RDONLY);
    if (events) events_ = std::move(*events);
  }
}

std::string TreeContainment::cgroup_path() const {
  if (v2_.valid()) return v2_.path();
  if (v1_cpu_.valid()) return v1_cpu_.path();
  return v1_memory_.path();
}

// A kernfs file such as cgroup.events stays ready for EPOLLPRI after a
// change until it is read again from offset 0: without this read every
// epoll_pwait2 returns at once and the wait spins a CPU that the target
// needs (a multi-threaded server's threads then wait for the next tick).
void TreeContainment::rearm_events() const {
  if (!events_) return;
  char buf[256];
  while (::pread(events_.get(), buf, sizeof buf, 0) < 0 && errno == EINTR) {
  }
}

std::vector<pid_t> TreeContainment::pids() const {
  if (v2_.valid()) return v2_.procs();
  if (main_ != nullptr && main_->pid() > 0) return pids_in_process_group(main_->pid());
  return {};
}

bool TreeContainment::populated() {
  if (v2_.valid()) return v2_.populated();
  bool alive = false;
  if (main_ != nullptr && main_->pid() > 0) {
    main_->try_wait();
    alive = main_->running() || !pids_in_process_group(main_->pid()).empty();
  }
  for (CgroupDir* d : {&v1_cpu_, &v1_memory_, &v1_cpuacct_}) alive = alive || (d->valid() && d->populated());
  return alive;
}

ResourceUsage TreeContainment::usage(const rusage* reaped_main) const {
  return tree_usage(pids(), reaped_main, &v2_, &v1_cpu_);
}

// The union of every view of the tree: under limits a process is in the v2
// and the v1 cgroups at once, and signalling each hierarchy delivered SIGTERM
// two or three times.
void TreeContainment::signal(int sig) {
  std::set<pid_t> pids;
  for (pid_t p : this->pids()) pids.insert(p);
  for (CgroupDir* d : {&v1_cpu_, &v1_memory_, &v1_cpuacct_}) {
    if (d->valid())
      for (pid_t p : d->procs()) pids.insert(p);
  }
  if (main_ != nullptr) {
    main_->try_wait();
    if (main_->running()) pids.insert(main_->pid());
  }
  for (pid_t p : pids) signal_one(p, sig);
}

void TreeContainment::signal_one(pid_t pid, int sig) {
  if (sig == SIGTERM && !termed_.insert(pid).second) return;
  if (main_ != nullptr && pid == main_->pid()) main_->signal(sig);  // by pidfd: never a reused pid
  else ::kill(pid, sig);
}

void TreeContainment::kill() {
  if (v2_.valid()) v2_.kill_all();
  else if (main_ != nullptr && main_->pid() > 0) ::kill(-main_->pid(), SIGKILL);
  for (CgroupDir* d : {&v1_cpu_, &v1_memory_, &v1_cpuacct_}) {
    if (d->valid()) d->kill_all();
  }
}

bool TreeContainment::wait_empty(Duration timeout, const std::function<void(Duration)>& wait_for) {
  const int64_t deadline = after(monotonic_ns(), timeout);
  const Duration tick = events_ ? std::chrono::milliseconds(50) : std::chrono::milliseconds(1);
  for (;;) {
    if (!populated()) return true;
    int64_t now = monotonic_ns();
    if (now >= deadline) return false;
    wait_for(std::min(between(now, deadline), tick));
  }
}

Result<void> TreeContainment::remove() {
  events_.reset();
  Result<void> removed;
  for (CgroupDir* d : {&v2_, &v1_cpu_, &v1_memory_, &v1_cpuacct_}) {
    auto r = d->remove();
    if (!r && removed) removed = r;
  }
  return removed;
}

Result<void> TreeContainment::set_cpu_max(std::optional<CpuMax> limit) { return write_cpu_max(v2_, v1_cpu_, limit); }

Result<void> TreeContainment::set_memory_high(std::optional<uint64_t> bytes) {
  return write_memory(v2_, v1_memory_, "memory.high", "memory.soft_limit_in_bytes", bytes);
}

Result<void> TreeContainment::set_memory_max(std::optional<uint64_t> bytes) {
  return write_memory(v2_, v1_memory_, "memory.max", "memory.limit_in_bytes", bytes);
}

}  // namespace coldstart::launch
