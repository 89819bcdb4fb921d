// Spawning one child process and reaping it. This is the only place in
// coldstart that forks: the launcher (launch/launcher.h) builds on it, and so
// does every command through the launcher.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/unique_fd.h"

namespace coldstart {

/// Runs in the child after fork and before execve. Async-signal-safe calls
/// only (e.g. prctl(PR_SET_NO_NEW_PRIVS) + a seccomp filter install). Returns
/// 0 to go on, or an errno value to abort the spawn (reported to the parent).
using ChildHook = int (*)(void* arg);

/// The identity a child takes before exec (systemd's User=, Group=,
/// SupplementaryGroups=): setgroups, setresgid, setresuid, in that order,
/// after it joined its cgroups and before chdir.
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  ///< supplementary groups (setgroups); empty clears them
};

/// What spawn() does between fork and exec, all prepared before the fork so the
/// child allocates nothing.
struct SpawnOptions {
  /// argv[0] is looked up in PATH when it has no '/'.
  std::vector<std::string> argv;
  /// The complete environment ("K=V" entries).
  std::vector<std::string> env;
  /// Indexes into `env` of entries "NAME=" (empty value) that the child
  /// completes with its own pid: LISTEN_PID (socket activation), WATCHDOG_PID.
  std::vector<int> own_pid_env_indexes;
  /// Working directory; empty keeps ours.
  std::string cwd;
  /// Standard streams: an fd of ours dup2'ed onto 0/1/2, or -1 to inherit.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  /// Become fds 3, 4, ... in the child (without close-on-exec).
  std::vector<int> pass_fds;
  /// A cgroup v2 directory fd: the child starts in it (clone3 CLONE_INTO_CGROUP).
  int cgroup_fd = -1;
  /// cgroup.procs fds (cgroup v1 hierarchies) the child writes "0" to before exec.
  std::vector<int> attach_procs_fds;
  /// setpgid(0, 0) in the child: the tree can be signalled as a process group
  /// when there is no cgroup.
  bool new_process_group = false;
  /// The child waits before exec until ChildProcess::resume() (paused start).
  bool paused = false;
  ChildHook hook = nullptr;
  void* hook_arg = nullptr;
  /// argv[0] is an absolute path that only exists after the hook ran (it
  /// pivoted into an image's root): execve it as given, no lookup here.
  bool program_in_hook_root = false;
  /// Run as another user; unset keeps ours.
  std::optional<Credentials> credentials;
  /// If set, receives CLOCK_MONOTONIC ns taken right before clone3 (the t0 of
  /// an unpaused launch: path lookup and argv building stay outside it).
  int64_t* t0_ns = nullptr;
  /// Keep the v1 attach (attach_procs_fds) inside the timed window, as a
  /// service manager's start includes it; by default t0 moves past it.
  bool attach_in_window = false;
  /// If set, receives how long the child's cgroup attach took (ns).
  int64_t* attach_ns = nullptr;
};

/// How a process ended.
struct ExitStatus {
  int code = -1;    ///< exit code, or -1 when killed by a signal
  int signal = 0;   ///< terminating signal, 0 when it exited
  bool core_dumped = false;
  rusage usage{};   ///< the child's own + its waited-for descendants' (wait4 RUSAGE_BOTH)
  bool success() const { return code == 0 && signal == 0; }
  /// "exit code 3", "killed by SIGSEGV (core dumped)".
  std::string describe() const;
};

/// Reaps the process behind `pidfd` with waitid(P_PIDFD) (flags: 0 to block,
/// WNOHANG to poll): its status, or nullopt while it runs or when it is not
/// our child (ECHILD).
std::optional<ExitStatus> reap_pidfd(int pidfd, int flags);

/// ChildProcess owns one spawned child: its pid and pidfd. It reaps the child
/// exactly once; if it is destroyed while the child still runs, it SIGKILLs
/// and reaps it, so no path leaves a zombie or an orphan of ours.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  /// Readable (EPOLLIN) once the child has exited: wait on it with epoll.
  int pidfd() const { return pidfd_.get(); }
  bool running() const { return pid_ > 0 && !status_; }
  bool paused() const { return go_.valid(); }

  /// Paused start: lets the child go on to exec and waits until the exec
  /// happened. Throws UserError if the exec (or the hook) failed.
  void resume();

  /// Sends `sig` through the pidfd (no pid-reuse race); false if it is gone.
  bool signal(int sig) const;

  /// Reaps the child if it exited; nullopt while it runs.
  std::optional<ExitStatus> try_wait();
  /// Blocks until the child exits and reaps it.
  ExitStatus wait();
  /// The status once reaped.
  const std::optional<ExitStatus>& status() const { return status_; }

 private:
  friend ChildProcess spawn(const SpawnOptions& options);
  std::optional<ExitStatus> reap(int flags);
  void kill_and_reap();
  void await_exec();

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd go_;     // paused start: write end of the "go" pipe
  UniqueFd error_;  // read end of the close-on-exec error pipe until exec is confirmed
  std::string program_;
  std::optional<ExitStatus> status_;
};

/// Resolves `name` the way execvp would (PATH search when it has no '/').
/// Throws UserError "command not found: NAME" or "NAME: Permission denied".
std::string resolve_program(const std::string& name);

/// Spawns the child. Unless options.paused, returns once the child has exec'd.
/// Throws UserError when the program cannot be found or executed.
ChildProcess spawn(const SpawnOptions& options);

/// Our environment as "K=V" entries, with `overrides` ("K=V") replacing or
/// adding entries.
std::vector<std::string> environment_with(const std::vector<std::string>& overrides);

}  // namespace coldstart
