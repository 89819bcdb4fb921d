// The peak RSS of processes that exit before the ready instant (bench
// --ready exit of a short program). Their /proc/<pid>/status is gone by then,
// and waitid's ru_maxrss is no help: the launcher spawns with
// clone(CLONE_VM | CLONE_VFORK), and execve(2) records the old mm's
// high-water mark into the process's maxrss, so ru_maxrss is at least the
// launcher's own peak (5.8 MiB for /bin/true, whose own is ~1 MiB). The
// kernel's per-task exit statistics (taskstats, generic netlink) carry the
// exiting task's mm high-water mark taken before the mm is released, i.e.
// the exec'd program's own.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/unique_fd.h"

namespace coldstart::launch {

/// ExitStats listens for taskstats exit records of every CPU from before a
/// spawn until the owner stops reading; the launcher drives it. Registering
/// needs CAP_NET_ADMIN: without it open() fails and peaks of exited
/// processes are unknown.
class ExitStats {
 public:
  /// A listener, or the reason there is none ("taskstats: Operation not permitted").
  static std::optional<ExitStats> open(std::string* why);
  ExitStats(ExitStats&&) noexcept = default;
  ExitStats& operator=(ExitStats&&) noexcept = default;
  ~ExitStats();

  /// Reads every pending record; remembers the peak RSS (bytes) of each
  /// exited thread group that descends from `root` (itself included).
  void collect(pid_t root);
  /// The largest peak among the collected thread groups; nullopt if none was
  /// seen (or records were lost: the socket overflowed).
  std::optional<uint64_t> peak_rss_bytes() const;

 private:
  ExitStats() = default;
  UniqueFd fd_;
  uint16_t family_ = 0;
  std::string cpumask_;
  std::map<pid_t, uint64_t> peaks_;  // tgid -> peak bytes
  std::map<pid_t, pid_t> parent_;    // tgid -> parent tgid, of the tree's exited tasks
  bool lost_ = false;
};

}  // namespace coldstart::launch
