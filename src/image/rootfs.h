// Entering an image: what the launched child does between fork and exec to
// run inside the image's layer stack, as a container runtime would.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace coldstart::image {

/// When each step of one entry happened (CLOCK_MONOTONIC ns, 0 = not reached),
/// written by the child into memory shared with us.
struct RootfsTiming {
  int64_t begin_ns = 0;        ///< hook entered (just after the launch's t0)
  int64_t namespace_ns = 0;    ///< private mount namespace + tmpfs for the upper layer
  int64_t overlay_ns = 0;      ///< overlayfs mounted
  int64_t binds_ns = 0;        ///< notify dir, /proc, /dev mounted
  int64_t pivot_ns = 0;        ///< pivot_root + detaching the old root done
  int64_t exec_ns = 0;         ///< pivoted, config applied: right before execve
  int failed_step = 0;         ///< which step failed (0: none)
  int failed_errno = 0;
  int used_new_mount_api = 0;  ///< 1: fsopen/fsconfig, 0: mount(2)
};

/// RootfsPlan is one image's way in, prepared before the fork so that the
/// child only makes system calls: unshare a mount namespace, mount a tmpfs
/// for the writable upper layer, mount overlayfs over the layers (new mount
/// API, mount(2) if the kernel lacks it), bind what must be shared (the
/// notify socket's directory), mount /proc and bind /dev, pivot_root, chdir
/// to WorkingDir, drop to User. The launcher owns the call (LaunchOptions::rootfs);
/// everything it mounts lives in the child's namespace and goes with it.
class RootfsPlan {
 public:
  /// `lower_bottom_first`: unpacked layer directories. Throws UserError when
  /// not root or without overlayfs (checked here, before any launch).
  RootfsPlan(std::vector<std::string> lower_bottom_first, std::string working_dir, uid_t uid, gid_t gid);
  ~RootfsPlan();
  RootfsPlan(const RootfsPlan&) = delete;
  RootfsPlan& operator=(const RootfsPlan&) = delete;

  /// Host directories bind-mounted at the same path inside (replaces the list).
  void set_binds(const std::vector<std::string>& host_dirs);
  /// Clears the timing before a launch.
  void reset_timing();
  /// The child hook (ChildHook signature). Async-signal-safe; returns 0 or an errno.
  static int enter(void* plan);
  RootfsTiming timing() const { return *shared_; }
  /// "overlayfs mount: Invalid argument" for a failed entry.
  std::string describe_failure() const;
  size_t layer_count() const { return lower_.size(); }

 private:
  int enter_child();

  std::vector<std::string> lower_;  // top first, as overlayfs lists them
  std::string legacy_options_;      // "lowerdir=...,upperdir=...,workdir=..." for mount(2)
  std::string mnt_, upper_, work_, root_, proc_, dev_;
  std::string working_dir_;
  std::vector<std::string> bind_src_, bind_dst_;
  std::vector<std::string> mkdirs_;  // parents to create under root_, in order
  uid_t uid_;
  gid_t gid_;
  RootfsTiming* shared_ = nullptr;
};

/// What runs inside the image: the command, its environment and identity,
/// resolved against the image's files before any launch.
struct RunConfig {
  std::vector<std::string> argv;  ///< argv[0] absolute, inside the image
  std::vector<std::string> env;   ///< the image's Env (+ PATH if it has none)
  std::string working_dir = "/";
  uid_t uid = 0;
  gid_t gid = 0;
};

struct ImageConfig;
struct Tree;

/// Entrypoint + Cmd (or `command`, which replaces both), argv[0] looked up
/// over the image's PATH; User as uid[:gid] or names from the image's
/// /etc/passwd and /etc/group. Throws UserError (no command, not found, unknown user).
RunConfig make_run_config(const ImageConfig& config, const Tree& tree, const std::vector<std::string>& command);

}  // namespace coldstart::image
