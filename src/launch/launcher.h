// THE launcher: one launch of a target in its own cgroup, observed until it is
// ready, then stopped with its whole process tree. bench, trace, prewarm
// record and run all start targets through this file and detect readiness
// with its probes; none of them spawns or probes any other way.
//
// Typical uses:
//   bench:    RunRecord r = launch_once(options);
//   trace:    options.paused = true; Launch l(options); attach to l.pid() /
//             l.cgroup_id(); l.resume(); l.wait_ready(); ... l.stop();
//   prewarm:  Launch l(options); l.wait_ready(); for (pid : l.tree_pids()) read
//             /proc/pid/maps; l.stop();
//   run:      Launch l(options); l.wait_ready(); l.set_cpu_max(std::nullopt);
//             keep reading l.notify_socket(); ... l.stop();
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/process.h"
#include "core/result.h"
#include "launch/notify.h"
#include "launch/ready_spec.h"

namespace coldstart::image {
class RootfsPlan;
}

namespace coldstart::launch {

/// Where the target's stdout/stderr go.
enum class OutputMode {
  kInherit,  ///< coldstart's own stdout/stderr
  kDiscard,  ///< /dev/null
  kCapture,  ///< pipes read by the launcher: stderr tail for failures, log: probe
};

/// How the process tree is contained.
enum class Isolation {
  kAuto,          ///< a cgroup when one can be created, else a process group
  kCgroup,        ///< a cgroup or a UserError
  kProcessGroup,  ///< no cgroup (the unprivileged fallback): setpgid + kill(-pgid)
};

/// A CPU bandwidth limit: `quota` of CPU time per `period` (cpu.max; written
/// in whole microseconds).
struct CpuMax {
  Duration quota{0};
  Duration period = std::chrono::milliseconds(100);
  /// Parses "QUOTA[/PERIOD]" like cgroup's cpu.max: each part a duration
  /// ("50ms/100ms") or bare microseconds ("50000/100000"); PERIOD defaults to
  /// 100ms. Throws UserError naming the bad part.
  static CpuMax parse(const std::string& text);
  double cpus() const { return static_cast<double>(quota.count()) / static_cast<double>(period.count()); }
};

/// Which cgroups hold the launch: what a service manager's accounting
/// (systemd's CPUAccounting=/MemoryAccounting= on a hybrid host) adds to a start.
enum class Containment {
  kAuto,          ///< what the limits need (a v2 cgroup, v1 ones for v1-only controllers)
  kV2,            ///< the v2 cgroup only
  kV2Cpu,         ///< + v1 cpu and cpuacct cgroups
  kV2CpuMemory,   ///< + v1 cpu, cpuacct and memory cgroups
};

/// Resource limits set through the launch's cgroup.
struct Limits {
  std::optional<CpuMax> cpu_max;
  std::optional<uint64_t> memory_high;  ///< v2 memory.high; v1: memory.soft_limit_in_bytes
  std::optional<uint64_t> memory_max;   ///< v2 memory.max; v1: memory.limit_in_bytes
  /// v2 cpu.weight (1..10000, default 100); v1: cpu.shares = weight * 1024 / 100.
  std::optional<uint64_t> cpu_weight;
  Containment containment = Containment::kAuto;
  bool any() const {
    return cpu_max || memory_high || memory_max || cpu_weight || containment != Containment::kAuto;
  }
};

/// A socket passed by socket activation: becomes fd 3, 4, ... in the target.
struct ListenFd {
  int fd = -1;       ///< ours; not closed by the launcher
  std::string name;  ///< for LISTEN_FDNAMES
};

/// Everything one launch needs.
struct LaunchOptions {
  std::vector<std::string> argv;
  std::vector<std::string> env;  ///< "K=V" added to (or replacing in) our environment
  std::string cwd;
  ReadySpec ready;
  Duration ready_timeout = std::chrono::seconds(10);  ///< kForever: no limit
  Duration stop_grace = std::chrono::seconds(2);      ///< SIGTERM, then SIGKILL after this long
  OutputMode output = OutputMode::kCapture;
  size_t stderr_tail_lines = 10;  ///< of stdout and of stderr
  Limits limits;
  std::vector<ListenFd> listen_fds;
  bool paused = false;  ///< the child exists but waits before exec until resume()
  /// With `paused`: called once the containment exists, just before the
  /// clone, with the v2 cgroup id (0 without one). Returning true starts the
  /// child unpaused after all, because the caller can follow the tree by its
  /// cgroup from this moment on (the BPF tracer): the launch then takes the
  /// fast clone, its t0 is taken right before clone3 as for any unpaused
  /// start, and resume() does nothing. A paused child is a fork of us whose
  /// exec has to tear down a copy of our whole address space inside the
  /// timed window; the fast clone's child shares ours until it execs.
  std::function<bool(uint64_t cgroup_id)> unpause_at_spawn;
  ChildHook child_hook = nullptr;
  void* child_hook_arg = nullptr;
  /// Run the target as another user (run --unit's User=/Group=); the cgroup,
  /// probes and notify socket still see and accept its whole tree.
  std::optional<Credentials> credentials;
  Isolation isolation = Isolation::kAuto;
  /// Run inside an image (image/rootfs.h): the child enters a private mount
  /// namespace over the image's layers before the hook and exec; argv[0] is a
  /// path inside the image; `cwd` is ignored (the plan has the WorkingDir).
  std::shared_ptr<image::RootfsPlan> rootfs;
  /// The target gets `env` alone (an image's Env), not our environment + `env`.
  bool clear_env = false;
  /// Count the v1 cgroup attach in time-to-ready (a service manager's view);
  /// by default t0 is taken after it (coldstart's containment, not the start).
  bool attach_in_window = false;
  /// At the ready instant, list the files the tree maps (RunRecord::mapped_files):
  /// bench --cold learns what a wrapper execs (tree_files.h).
  bool collect_mapped_files = false;
};

/// Resource figures of the whole tree, from spawn up to one instant.
struct ResourceUsage {
  Duration user_time{0};
  Duration system_time{0};
  /// The largest single-process peak after exec: VmHWM of live processes, and
  /// for exited ones the kernel's exit statistics (exit_stats.h); never
  /// ru_maxrss, which counts the launcher's memory before the exec.
  uint64_t peak_rss_bytes = 0;
  /// False when a process of the tree exited and its peak could not be read
  /// (no taskstats without CAP_NET_ADMIN): peak_rss_bytes is then only the
  /// live processes' and printers say "unavailable".
  bool peak_rss_known = true;
  uint64_t major_faults = 0;
  uint64_t minor_faults = 0;
  uint64_t voluntary_switches = 0;
  uint64_t involuntary_switches = 0;
  uint64_t cpu_periods = 0;      ///< under a CPU limit: enforcement periods
  uint64_t throttled_periods = 0;
  Duration throttled_time{0};
  std::string cpu_source;  ///< "cgroup cpu.stat", "rusage" (the reaped tree) or "proc" (clock ticks)
  /// False when user_time/system_time are /proc tick counts of live processes (no
  /// cgroup: the process-group fallback): at 4 ms a tick a start shows 0 or
  /// one tick, so the figure is unavailable, not zero.
  bool cpu_known = true;
};

/// What one launch measured. Instants in CLOCK_MONOTONIC ns.
struct RunRecord {
  bool ready = false;
  Duration time_to_ready{0};  ///< ready_ns - t0_ns, when ready
  int64_t t0_ns = 0;           ///< just before clone3 (or before resume() of a paused start)
  int64_t ready_ns = 0;        ///< when the probe observed readiness
  std::optional<ExitStatus> exit;  ///< the main process's end, if it ended before/at stop
  std::string failure;          ///< why it is not ready: "exit code 3 before ready", ...
  std::string stdout_tail;      ///< the last lines of its stdout (captured output only)
  std::string stderr_tail;      ///< the last lines of its stderr (captured output only)
  ResourceUsage usage;          ///< up to the ready instant (or the failure)
  std::vector<NotifyMessage> notifications;  ///< sd_notify datagrams up to ready
  /// Inside an image: entering it (namespace + overlayfs + pivot), inside the
  /// timed window; of which the overlayfs mount; and execve to ready.
  std::optional<Duration> mount_time;
  std::optional<Duration> overlay_mount_time;
  std::optional<Duration> exec_to_ready;
  Duration attach_time{0};      ///< how long the v1 cgroup attach took (0 without one)
  std::vector<std::string> mapped_files;  ///< with collect_mapped_files: the tree's files at ready
  std::string isolation;        ///< "cgroup v2 /sys/fs/cgroup/unified/coldstart/..." or "process group (...)"
};

/// Launch owns one running target: its process, cgroup(s), notify socket and
/// output pipes. It is driven by its owner (wait_ready, stop) and stops the
/// tree and removes the cgroups in its destructor if the owner did not.
class Launch {
 public:
  /// Spawns the target (paused if options.paused). Throws UserError when the
  /// program cannot be started, a cgroup is required but unavailable, or a
  /// limit cannot be set.
  explicit Launch(const LaunchOptions& options);
  Launch(Launch&&) noexcept;
  Launch& operator=(Launch&&) noexcept;
  ~Launch();

  pid_t pid() const;
  /// The main process's pidfd (readable when it exits).
  int pidfd() const;
  /// 0 without a v2 cgroup.
  uint64_t cgroup_id() const;
  /// The v2 (or first v1) cgroup directory; empty without one.
  std::string cgroup_path() const;
  int64_t t0_ns() const;

  /// Paused start: takes t0 and lets the child exec. Throws UserError if the
  /// exec failed. Nothing to do for a start that was not paused.
  void resume();

  /// Observes the probe until ready, early exit, timeout or an interrupt
  /// (throws Interrupted). The record says which; calling again returns it.
  const RunRecord& wait_ready();

  /// The pids of the tree now (cgroup.procs, or the process group).
  std::vector<pid_t> tree_pids() const;
  /// The resource figures of the tree now.
  ResourceUsage usage_now() const;
  /// The notify socket (null unless the SPEC is notify); keep reading it after ready.
  NotifySocket* notify_socket();
  ChildProcess& process();

  /// Runtime limits (e.g. lift the CPU quota at the ready instant). The launch
  /// must have been started with a cgroup for that controller (options.limits
  /// set one, possibly generous).
  Result<void> set_cpu_max(std::optional<CpuMax> limit);
  Result<void> set_memory_high(std::optional<uint64_t> bytes);
  Result<void> set_memory_max(std::optional<uint64_t> bytes);

  /// `sig` to every process of the tree, each once (the v2 and v1 cgroups and
  /// the process group together). SIGTERM is sent at most once per process
  /// over the launch's life, stop() included: stop() after signal_tree(SIGTERM)
  /// only waits the grace period and then SIGKILLs.
  void signal_tree(int sig);
  /// `sig` to one process of the tree (a MAINPID= the service named), with the
  /// same at-most-once SIGTERM.
  void signal(pid_t pid, int sig);

  /// Reads pending captured output (keeps the target from blocking on a full pipe).
  void drain_output();

  /// SIGTERM to the tree, up to stop_grace, SIGKILL, reap everything, remove
  /// the cgroups. Idempotent. Returns the final record (exit status filled in).
  const RunRecord& stop();

  const RunRecord& record() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

/// Starts, waits until ready (or failure), snapshots resources, stops. The
/// whole of `coldstart bench`'s work for one run.
RunRecord launch_once(const LaunchOptions& options);

}  // namespace coldstart::launch
