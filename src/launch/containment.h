// The containment of one launch's process tree: the cgroups that hold it (a
// v2 cgroup, plus v1 cpu/cpuacct/memory ones where limits or a containment
// level need them) or, without a writable cgroup, a process group of its own.
// One implementation of create, attach, limits, signal-the-tree, kill,
// wait-empty and remove, used by every launch (bench, trace, prewarm record,
// run and its supervisor all go through launch::Launch, which owns one).
//
//   TreeContainment c(options.isolation, options.limits);  // mkdirs + limit writes
//   c.prepare_spawn(spawn_options);  // CLONE_INTO_CGROUP fd, v1 cgroup.procs fds, setpgid
//   ChildProcess child = spawn(spawn_options);
//   c.spawned(&child);               // the tree's leader; cgroup.events for epoll
//   c.signal(SIGTERM); c.wait_empty(grace, waiter); c.kill(); c.remove();
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/cgroup.h"
#include "core/process.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "launch/launcher.h"

namespace coldstart::launch {

/// Every process whose process group (field 5 of /proc/<pid>/stat) is `pgid`,
/// zombies left out: the tree of the process-group fallback.
std::vector<pid_t> pids_in_process_group(pid_t pgid);

class TreeContainment {
 public:
  /// Creates the cgroups `isolation` and `limits` ask for and writes the
  /// limits. Throws UserError when a cgroup is required (Isolation::kCgroup,
  /// or any limit) but cannot be created, or a limit cannot be written.
  TreeContainment(Isolation isolation, const Limits& limits);
  TreeContainment() = default;
  TreeContainment(TreeContainment&&) noexcept = default;
  TreeContainment& operator=(TreeContainment&&) noexcept = default;

  /// What the spawn needs to put the child in: the v2 directory fd
  /// (clone3 CLONE_INTO_CGROUP), the v1 cgroup.procs fds it writes itself
  /// before exec, and setpgid for the process-group fallback.
  void prepare_spawn(SpawnOptions& spawn) const;
  /// After the spawn: `main` leads the tree (its pid is the process group;
  /// it is signalled by pidfd). Opens cgroup.events for events_fd().
  void spawned(ChildProcess* main);

  /// "cgroup v2 /sys/fs/cgroup/unified/coldstart/..." or "process group (...)".
  const std::string& description() const { return description_; }
  /// 0 without a v2 cgroup.
  uint64_t cgroup_id() const { return v2_.valid() ? v2_.id() : 0; }
  /// The v2 (or first v1) cgroup directory; empty without one.
  std::string cgroup_path() const;
  /// The v2 cgroup.events (EPOLLPRI when "populated" changes), or -1.
  int events_fd() const { return events_.get(); }
  /// Reads cgroup.events again: kernfs keeps EPOLLPRI set until then.
  void rearm_events() const;

  /// The pids of the tree now (cgroup.procs, or the process group).
  std::vector<pid_t> pids() const;
  /// Whether any process of the tree is still there (reaps the main process
  /// if it exited).
  bool populated();
  /// The tree's resource figures now; `reaped_main` is the main process's
  /// rusage once it was reaped.
  ResourceUsage usage(const rusage* reaped_main) const;

  /// `sig` to every process of the tree, each once: the union of the v2
  /// cgroup (or the process group), the v1 cgroups and the main process.
  /// SIGTERM goes at most once to a process over the containment's life.
  void signal(int sig);
  /// `sig` to one process of the tree, with the same at-most-once SIGTERM.
  void signal_one(pid_t pid, int sig);
  /// SIGKILL to the whole tree: cgroup.kill where there is one, else kill(-pgid).
  void kill();
  /// Waits up to `timeout` for the tree to be empty. `wait_for(d)` sleeps
  /// up to d until something happens (the owner's epoll, which includes
  /// events_fd() and calls rearm_events()); it is called with at most 50 ms
  /// (1 ms without cgroup.events, where emptiness is only seen by looking).
  bool wait_empty(Duration timeout, const std::function<void(Duration)>& wait_for);
  /// Kills what is left and removes every cgroup. The first error, if any.
  Result<void> remove();

  /// Runtime limits; nullopt lifts one. The launch must have the cgroup of
  /// that controller (created with a limit of it, possibly generous).
  Result<void> set_cpu_max(std::optional<CpuMax> limit);
  Result<void> set_memory_high(std::optional<uint64_t> bytes);
  Result<void> set_memory_max(std::optional<uint64_t> bytes);

 private:
  void create_v1(CgroupDir& slot, const std::string& hierarchy, const std::string& why_absent,
                 const std::string& what);
  void apply_limits(const Limits& limits);

  CgroupDir v2_;
  CgroupDir v1_cpu_;
  CgroupDir v1_memory_;
  CgroupDir v1_cpuacct_;  // only for Containment::kV2Cpu* when cpuacct is its own hierarchy
  std::vector<UniqueFd> attach_fds_;  // v1 cgroup.procs, open until the child joined
  UniqueFd events_;
  std::string description_;
  ChildProcess* main_ = nullptr;
  std::set<pid_t> termed_;  // sent SIGTERM already: services such as redis take a second as "hurry"
};

}  // namespace coldstart::launch
