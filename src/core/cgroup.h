// cgroups: where the hierarchies are mounted (found at run time), and the
// owner of one cgroup directory that coldstart created for a launch.
//
// Launch cgroups live under a "coldstart/" directory of each hierarchy used,
// e.g. /sys/fs/cgroup/unified/coldstart/<our pid>-<n>; tests/leftovers_check
// fails the suite if any child directory of such a "coldstart/" survives.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"

namespace coldstart {

/// Mount points of the cgroup hierarchies (empty when absent), read once from
/// /proc/self/mounts.
struct CgroupLayout {
  std::string v2;          ///< the unified hierarchy
  std::string v1_cpu;      ///< v1 hierarchy carrying the cpu controller
  std::string v1_memory;   ///< v1 hierarchy carrying the memory controller
  std::string v1_cpuacct;  ///< v1 hierarchy carrying cpuacct (== v1_cpu when co-mounted)
  /// Controllers usable in v2 child cgroups of `v2`/coldstart (cgroup.controllers of the root).
  std::vector<std::string> v2_controllers;
  bool v2_has(std::string_view controller) const;
};

const CgroupLayout& cgroup_layout();

/// "<our pid>-<counter>": unique among the launches of every coldstart process.
std::string next_launch_cgroup_name();

/// CgroupDir owns one cgroup directory coldstart created. Destroying it kills
/// whatever still runs inside (cgroup.kill, else SIGKILL per pid), waits for the
/// tasks to be gone and removes the directory, so no path leaves it behind.
class CgroupDir {
 public:
  CgroupDir() = default;
  CgroupDir(CgroupDir&& other) noexcept;
  CgroupDir& operator=(CgroupDir&& other) noexcept;
  CgroupDir(const CgroupDir&) = delete;
  CgroupDir& operator=(const CgroupDir&) = delete;
  ~CgroupDir();

  /// Creates <hierarchy>/coldstart/<name> (and coldstart/ if needed).
  static Result<CgroupDir> create(const std::string& hierarchy, const std::string& name);

  bool valid() const { return fd_.valid(); }
  const std::string& path() const { return path_; }
  /// O_DIRECTORY fd, for clone3(CLONE_INTO_CGROUP) on v2.
  int fd() const { return fd_.get(); }
  /// The cgroup id (the kernfs inode number; bpf_get_current_cgroup_id() on v2).
  uint64_t id() const { return id_; }

  std::vector<pid_t> procs() const;
  /// v2: cgroup.events says populated; v1: cgroup.procs is not empty.
  bool populated() const;
  std::optional<std::string> read(std::string_view file) const;
  Result<void> write(std::string_view file, std::string_view value) const;
  /// Opens a file of the cgroup (O_CLOEXEC added), e.g. cgroup.procs for attaching.
  Result<UniqueFd> open_file(std::string_view file, int flags) const;

  /// Sends `sig` to every task listed in cgroup.procs.
  void signal_all(int sig) const;
  /// SIGKILLs the whole tree: cgroup.kill (v2, Linux 5.14) or per-pid SIGKILL.
  void kill_all() const;
  /// Kills what is left, waits up to `timeout_s` for it to go, removes the
  /// directory. Returns an error if it could not be removed.
  Result<void> remove(double timeout_s = 2.0);

 private:
  std::string path_;
  UniqueFd fd_;
  uint64_t id_ = 0;
};

/// Parses "key value" lines (cpu.stat, memory.stat, cgroup.events) for `key`.
std::optional<uint64_t> cgroup_stat_value(std::string_view text, std::string_view key);

}  // namespace coldstart
