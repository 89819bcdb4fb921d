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
inline constexpr uint32_t kStartProvisional = 1;       // CSW_START_PROVISIONAL
inline constexpr uint32_t kStartNewMountNamespace = 2;  // CSW_START_NEW_MNTNS
inline constexpr uint32_t kStartFromFork = 4;           // CSW_START_FROM_FORK
inline constexpr uint32_t kStartFromJoin = 8;           // CSW_START_FROM_JOIN

/// One record of the ring buffer, decoded (see bpf/watch_events.h).
struct KernelEvent {
  enum class Kind { kStart, kExec, kListen, kNotify, kAccept, kEnd, kCgroupMade, kCgroupRemoved, kEntry, kMain, kMount };
  Kind kind = Kind::kStart;
  pid_t pid = 0;
  uint64_t key = 0;
  int64_t ts_ns = 0;  ///< CLOCK_MONOTONIC
  uint64_t cpu_ns = 0;  ///< kNoTask: no task snapshot
  uint64_t major_faults = 0;
  uint64_t throttled_ns = 0;
  /// start: kStartProvisional | kStartNewMountNamespace | kStartFromFork | kStartFromJoin; listen, accept:
  /// family; end: wait status;
  /// mount: lower layers
  uint32_t aux = 0;
  uint32_t aux2 = 0;  ///< listen, accept: TCP port
  uint64_t exe_ino = 0;   ///< start, exec: the executable's inode
  uint32_t exe_dev = 0;   ///< ... and device (kernel encoding, MAJOR << 20 | MINOR)
  uint64_t mount_ns = 0;  ///< mount: duration of the mount(2) call
  int64_t fork_ns = 0;    ///< start, exec: when the task's process was forked (CLOCK_MONOTONIC)
  int64_t t0_ns = 0;      ///< start: what its times count from (see kStartFromFork, kStartFromJoin)
  std::string comm;
  std::string data;               ///< exec: path; cgroup: its path; unix listen: bound path
  std::vector<std::string> args;  ///< exec: argv as far as the kernel record holds it
};

/// What a start had reached at one milestone.
struct MilestoneAt {
  int64_t ts_ns = 0;
  double seconds = 0;  ///< since the start's t0 (StartRecord::t0_ns)
  double cpu_seconds = 0;
  uint64_t major_faults = 0;
  double throttled_seconds = 0;
  /// False when the kernel reached it without a task of the start running
  /// (a TCP handshake completed in softirq): CPU, faults and pid unknown.
  bool has_task = true;
  pid_t pid = 0;
  std::string comm;
};

/// An overlayfs mount made for a start: by one of its tasks, or by a task of
/// its cgroup before its first exec (a runtime preparing its root).
struct OverlayMount {
  double at_seconds = 0;  ///< when it was done, from the start's t0 (< 0: before it)
  double seconds = 0;     ///< duration of the mount(2) call (libc entry to return)
  uint32_t lower_layers = 0;
  pid_t pid = 0;
  std::string comm;
};

/// Whether the loader-done and main uprobes were on the start's executable.
enum class PhaseProbes {
  kNone,     ///< not placed: not an ELF the agent reads, no entry point, or attaching failed
  kLate,     ///< placed when this start was seen: its process had likely passed them (the first start of a binary)
  kInPlace,  ///< placed before this start (an earlier start of the same executable)
};
std::string_view phase_probes_name(PhaseProbes p);

/// What a start's times count from (see watch.bpf.c, on_exec).
enum class StartOrigin {
  kExec,  ///< the exec that began it (its process was forked long before: not made for it)
  kFork,  ///< the fork (or clone into its cgroup) of the process whose exec began it
  kJoin,  ///< that process's move into the start's cgroup, after its fork elsewhere
};
std::string_view start_origin_name(StartOrigin o);

/// Everything known about one start; the event log prints it whole.
struct StartRecord {
  uint64_t key = 0;
  pid_t pid = 0;
  std::string exe;      ///< the root's latest executable
  std::string first_exe;
  std::vector<std::string> args;
  std::string cgroup;
  StartLabels labels;
  /// What the start's times count from (CLOCK_MONOTONIC): `origin` says which instant.
  int64_t t0_ns = 0;
  StartOrigin origin = StartOrigin::kExec;
  int64_t exec_ns = 0;  ///< the first exec
  int64_t fork_ns = 0;  ///< the fork of the first exec's process (0: unknown)
  uint64_t exe_ino = 0;  ///< identity of `exe` (see KernelEvent)
  uint32_t exe_dev = 0;
  /// Loader done (the ELF entry point reached) and main, of the root's latest executable.
  std::optional<MilestoneAt> entry, main;
  PhaseProbes phase_probes = PhaseProbes::kNone;
  std::string main_symbol;  ///< how main was found: "main", "main.main", "__libc_start_main argument"
  std::optional<MilestoneAt> listen, notify, accept;
  std::string listen_family;  ///< "tcp4", "tcp6", "unix"
  uint16_t listen_port = 0;
  std::string listen_path;     ///< AF_UNIX: the bound path ("@name" for an abstract socket)
  std::string accept_family;   ///< "tcp4", "tcp6", "unix"
  bool new_mount_namespace = false;  ///< its first process's mount namespace was not its parent's
  std::vector<OverlayMount> overlay_mounts;
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
  /// The start's root runs a new executable (its first exec, and each later
  /// one): place the loader/main probes on it. Returns what is in place, and
  /// sets `main_symbol`. The default places nothing.
  virtual PhaseProbes executed(const StartRecord& r, std::string& main_symbol) {
    (void)r;
    (void)main_symbol;
    return PhaseProbes::kNone;
  }
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
    /// Cgroups whose overlay mounts (made before their first exec) are kept.
    size_t max_pending_mounts = 4096;
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
  void place_probes(StartRecord& r);

  std::map<uint64_t, std::string> cgroup_paths_;  // cgroup id -> path, from mkdir records
  std::map<uint64_t, std::vector<KernelEvent>> pending_mounts_;  // fresh cgroup -> its mounts before a start
  std::map<uint64_t, StartRecord> open_;
};

}  // namespace coldstart::watch
