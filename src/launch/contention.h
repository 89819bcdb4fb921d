// CPU contention for measurements that mean nothing on an idle machine: a CPU
// weight (v2 cpu.weight, v1 cpu.shares) only divides CPU time among cgroups
// that all want it. bench --contend N starts N CPU-bound processes in a
// sibling cgroup of the launch's before a run and stops them after it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "core/cgroup.h"

namespace coldstart::launch {

/// Contention owns N busy-looping child processes and the cgroups that hold
/// them: <v2>/coldstart/<name> and, where the cpu controller lives in v1,
/// <v1 cpu>/coldstart/<name> (a sibling of every launch's cpu cgroup, so a
/// launch's cpu.shares is weighed against it). Its owner (bench) creates one
/// around each run; the destructor SIGKILLs, reaps and removes everything on
/// every path.
class Contention {
 public:
  /// Starts `n` (>= 1) load processes and returns once all of them run in
  /// their cgroups. Throws UserError when a cgroup cannot be made or a fork fails.
  explicit Contention(size_t n);
  Contention(const Contention&) = delete;
  Contention& operator=(const Contention&) = delete;
  ~Contention();

  const std::vector<pid_t>& pids() const { return pids_; }
  /// The cgroup the load runs in (v1 cpu when present, else v2).
  std::string cgroup_path() const;
  /// SIGKILL, reap, remove the cgroups. Idempotent.
  void stop();

 private:
  std::vector<pid_t> pids_;
  CgroupDir v2_;
  CgroupDir v1_cpu_;
};

}  // namespace coldstart::launch
