// From kernel records to start records: StartTracker keeps one StartRecord
// per start the BPF program follows, fills in its milestones, decides when it
// is over and tells an observer. No BPF and no I/O here (the cgroup path of a
// --match start comes through a seam), so tests drive it with made-up events.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "launch/log_pattern.h"
#include "watch/labels.h"
#include "watch/metrics.h"

namespace coldstart::watch {

inline constexpr uint64_t kNoTask = ~0ULL;

/// One record of the ring buffer, decoded (see bpf/watch_events.h).
struct KernelEvent {
  enum class Kind { kStart, kExec, kListen, kNotify, kAccept, kEnd, kCgroupMade, kCgroupRemoved };
  Kind kind = Kind::kStart;
  pid_t pid = 0;
  uint64_t key = 0;
  int64_t ts_ns = 0;  ///< CLOCK_MONOTONIC
  uint64_t cpu_ns = 0;  ///< kNoTask: no task snapshot
  uint64_t major_faults = 0;
  uint64_t throttled_ns = 0;
  uint32_t aux = 0;   ///< start: 1 if provisional (--match); listen: family; end: wait status
  uint32_t aux2 = 0;  ///< listen: TCP port
  std::string comm;
  std::string data;               ///< exec: path; cgroup: its path
  std::vector<std::string> args;  ///< exec: argv as far as the kernel record holds it
};

/// What a start had reached at one milestone.
struct MilestoneAt {
  int64_t ts_ns = 0;
  double seconds = 0;  ///< since the start's first exec
  double cpu_seconds = 0;
  uint64_t major_faults = 0;
  double throttled_seconds = 0;
  /// False when the kernel reached it without a task of the start running
  /// (a TCP handshake completed in softirq): CPU, faults and pid unknown.
  bool has_task = true;
  pid_t pid = 0;
  std::string comm;
};

/// Everything known about one start; the event log prints it whole.
struct StartRecord {
  uint64_t key = 0;
  pid_t pid = 0;
  std::string exe;      ///< the root's latest executable
  std::string first_exe;
  std::vector<std::string> args;
  std::string cgroup;
  StartLabels labels;
  int64_t exec_ns = 0;
  std::optional<MilestoneAt> listen, notify, accept;
  std::string listen_family;  ///< "tcp4", "tcp6", "unix"
  uint16_t listen_port = 0;
  /// "served" (first connection accepted), "exited" (all processes gone),
  /// "timeout" (still not served after --start-timeout), "open" (watch stopped first).
  std::string outcome;
  std::optional<MilestoneAt> end;
  std::optional<int> exit_status;  ///< of the last process, when it exited normally
  std::optional<int> exit_signal;  ///< ... or the signal that killed it
  bool ready() const { return listen || notify; }
  /// Exited before listening or notifying, with a non-zero status or a signal.
  bool failed() const;
};

/// What the tracker tells its driver. Implemented by the agent (metrics,
/// event log, BPF map clean-up) and by tests.
class StartObserver {
 public:
  virtual ~StartObserver() = default;
  virtual void started(const StartRecord& r) = 0;
  virtual void reached(const StartRecord& r, Milestone m) = 0;
  /// The record is complete; `drop_kernel_state` when the BPF program still
  /// holds state for it (served, timed out, rejected) that must be deleted.
  virtual void finished(const StartRecord& r, bool drop_kernel_state) = 0;
  /// A provisional (--match) start that did not match: delete its kernel state.
  virtual void rejected(uint64_t key, pid_t pid) = 0;
};

/// StartTracker is driven by the agent's loop: on_event() per decoded record,
/// expire() on its timer, finish_all() when it stops.
class StartTracker {
 public:
  struct Options {
    std::vector<launch::LogPattern> match;  ///< --match: on the exe path and the command line
    int64_t timeout_ns = 300'000'000'000;   ///< --start-timeout
    /// After the first accepted connection, how long a start stays open for a
    /// READY=1 that comes later (a service may notify after its first connection).
    int64_t linger_ns = 1'000'000'000;
    size_t max_cgroup_paths = 65536;
  };
  /// `cgroup_of(pid)`: the unified-hierarchy path of a live process ("" if gone).
  StartTracker(Options options, StartObserver& observer, std::function<std::string(pid_t)> cgroup_of);

  void on_event(const KernelEvent& e);
  void expire(int64_t now_ns);
  void finish_all();
  size_t open_starts() const { return open_.size(); }

 private:
  bool matches(const KernelEvent& e) const;
  void finish(std::map<uint64_t, StartRecord>::iterator it, const std::string& outcome, bool drop_kernel_state);

  Options options_;
  StartObserver& observer_;
  std::function<std::string(pid_t)> cgroup_of_;
  std::map<uint64_t, std::string> cgroup_paths_;  // cgroup id -> path, from mkdir records
  std::map<uint64_t, StartRecord> open_;
};

}  // namespace coldstart::watch
