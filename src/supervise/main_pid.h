// Following a main process the service named with MAINPID= (systemd's
// semantics: the service lives as long as its main process, and a daemon may
// hand that role to a child and let the started process exit).
//
// coldstart makes itself a child subreaper for the supervision, so a named
// process whose parent exits is re-parented to us: its exit status can then
// be reaped like a child's. If it is not our child when it exits (its parent
// is still alive), the status is unknown and reported as such.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <optional>
#include <vector>

#include "core/process.h"
#include "core/unique_fd.h"

namespace coldstart::supervise {

/// Becomes the reaper of orphaned descendants (PR_SET_CHILD_SUBREAPER).
void become_subreaper();

/// Reaps every exited child of ours except those listed (children owned by a
/// ChildProcess). Orphans re-parented to us would otherwise stay zombies for
/// as long as the supervision runs.
void reap_orphans(const std::vector<pid_t>& except);

/// One followed main process: a pidfd, readable when it exits.
class FollowedMain {
 public:
  /// nullopt when the process is already gone.
  static std::optional<FollowedMain> open(pid_t pid);

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  /// After the pidfd became readable: the exit status, reaped if the process
  /// is our child; nullopt when it is not (its status is not ours to read).
  std::optional<ExitStatus> end() { return reap_pidfd(pidfd_.get(), WNOHANG); }

 private:
  pid_t pid_ = 0;
  UniqueFd pidfd_;
};

}  // namespace coldstart::supervise
