// The child's way into an image (see rootfs.h for the steps).
//
// Kernel facts relied on:
//  * unshare(CLONE_NEWNS) in the child gives it a copy of our mounts; making
//    "/" recursively private keeps what it mounts from propagating back. When
//    the last process of the namespace exits, the kernel unmounts everything
//    in it: no cleanup path of ours is needed, on any exit path.
//  * overlayfs wants upper and work directories on one filesystem: a tmpfs
//    mounted (in the namespace only) on <cache>/mnt holds both and the mount
//    point, so nothing is created on a host filesystem per run.
//  * fsopen("overlay") + fsconfig("lowerdir+", one layer per call; Linux 6.8)
//    has no limit on the number of layers beyond overlayfs's own (500), while
//    mount(2) takes the whole option string in one page (4096 bytes). Each
//    fsconfig string is at most 256 bytes: layer paths are cache paths, short.
//  * pivot_root(".", ".") then umount2(".", MNT_DETACH) swaps the root
//    without a put_old directory (pivot_root(2), NOTES).
#include "image/rootfs.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "core/clock.h"
#include "core/error.h"
#include "core/file.h"
#include "core/strings.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/tree.h"

namespace coldstart::image {
namespace {

enum Step : int {
  kStepUnshare = 1, kStepPrivate, kStepTmpfs, kStepDirs, kStepOverlay, kStepBind, kStepProc, kStepDev,
  kStepPivot, kStepWorkdir, kStepUser
};

const char* step_name(int step) {
  switch (step) {
    case kStepUnshare: return "unshare(CLONE_NEWNS)";
    case kStepPrivate: return "making / private";
    case kStepTmpfs: return "mounting the tmpfs for the upper layer";
    case kStepDirs: return "creating upper/work directories";
    case kStepOverlay: return "overlayfs mount";
    case kStepBind: return "bind-mounting the notify socket directory";
    case kStepProc: return "mounting /proc";
    case kStepDev: return "bind-mounting /dev";
    case kStepPivot: return "pivot_root";
    case kStepWorkdir: return "chdir to WorkingDir";
    case kStepUser: return "switching to User";
    default: return "entering the image";
  }
}

bool overlay_available() {
  auto fs = read_text_file("/proc/filesystems");
  return fs && fs->find("\toverlay\n") != std::string::npos;
}

void mkdirs(const std::string& path) {
  size_t pos = 0;
  for (;;) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) throw_sys("mkdir", part);
    if (pos == std::string::npos) return;
  }
}

// The new mount API through raw syscalls (glibc 2.36 has wrappers, older ones
// do not; the numbers are the same on every architecture since 5.2).
int sys_fsopen(const char* fs, unsigned flags) { return static_cast<int>(::syscall(SYS_fsopen, fs, flags)); }
int sys_fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux) {
  return static_cast<int>(::syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}
int sys_fsmount(int fd, unsigned flags, unsigned attr) { return static_cast<int>(::syscall(SYS_fsmount, fd, flags, attr)); }
int sys_move_mount(int from, const char* from_path, int to, const char* to_path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_move_mount, from, from_path, to, to_path, flags));
}
constexpr unsigned kFsconfigSetString = 1;   // FSCONFIG_SET_STRING
constexpr unsigned kFsconfigCmdCreate = 6;   // FSCONFIG_CMD_CREATE
constexpr unsigned kFsopenCloexec = 1;       // FSOPEN_CLOEXEC
constexpr unsigned kFsmountCloexec = 1;      // FSMOUNT_CLOEXEC
constexpr unsigned kMoveMountFEmptyPath = 4;  // MOVE_MOUNT_F_EMPTY_PATH

}  // namespace

RootfsPlan::RootfsPlan(std::vector<std::string> lower_bottom_first, std::string working_dir, uid_t uid, gid_t gid)
    : working_dir_(working_dir.empty() ? "/" : std::move(working_dir)), uid_(uid), gid_(gid) {
  if (::geteuid() != 0) {
    throw UserError("--image needs root: the image's layers are mounted with overlayfs in a private mount namespace");
  }
  if (!overlay_available()) throw UserError("--image needs overlayfs, which this kernel does not offer (/proc/filesystems)");
  if (lower_bottom_first.empty()) throw UserError("an image needs at least one layer");
  lower_.assign(lower_bottom_first.rbegin(), lower_bottom_first.rend());
  mnt_ = cache_root() + "/mnt";
  mkdirs(mnt_);
  upper_ = mnt_ + "/upper";
  work_ = mnt_ + "/work";
  root_ = mnt_ + "/root";
  proc_ = root_ + "/proc";
  dev_ = root_ + "/dev";
  legacy_options_ = "lowerdir=" + join(lower_, ":") + ",upperdir=" + upper_ + ",workdir=" + work_;
  void* p = ::mmap(nullptr, sizeof(RootfsTiming), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw_sys("mmap", "rootfs timing");
  shared_ = new (p) RootfsTiming();
}

RootfsPlan::~RootfsPlan() {
  if (shared_ != nullptr) ::munmap(shared_, sizeof(RootfsTiming));
}

void RootfsPlan::set_binds(const std::vector<std::string>& host_dirs) {
  bind_src_.clear();
  bind_dst_.clear();
  mkdirs_.clear();
  for (const auto& d : host_dirs) {
    if (d.empty() || d.front() != '/') continue;
    bind_src_.push_back(d);
    bind_dst_.push_back(root_ + d);
    for (size_t pos = d.find('/', 1);; pos = d.find('/', pos + 1)) {
      mkdirs_.push_back(root_ + d.substr(0, pos));
      if (pos == std::string::npos) break;
    }
  }
}

void RootfsPlan::reset_timing() { *shared_ = RootfsTiming(); }

int RootfsPlan::enter(void* plan) { return static_cast<RootfsPlan*>(plan)->enter_child(); }

int RootfsPlan::enter_child() {
  RootfsTiming& t = *shared_;
  auto fail = [&](int step) {
    t.failed_step = step;
    t.failed_errno = errno != 0 ? errno : EINVAL;
    return t.failed_errno;
  };
  t.begin_ns = monotonic_ns();
  if (::unshare(CLONE_NEWNS) != 0) return fail(kStepUnshare);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return fail(kStepPrivate);
  if (::mount("tmpfs", mnt_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) return fail(kStepTmpfs);
  for (const std::string* d : {&upper_, &work_, &root_}) {
    if (::mkdir(d->c_str(), 0755) != 0) return fail(kStepDirs);
  }
  t.namespace_ns = monotonic_ns();

  // overlayfs: the new mount API, layer by layer; mount(2) where it is missing.
  bool mounted = false;
  int fs = sys_fsopen("overlay", kFsopenCloexec);
  if (fs >= 0) {
    bool ok = true;
    for (const auto& l : lower_) ok = ok && sys_fsconfig(fs, kFsconfigSetString, "lowerdir+", l.c_str(), 0) == 0;
    ok = ok && sys_fsconfig(fs, kFsconfigSetString, "upperdir", upper_.c_str(), 0) == 0 &&
         sys_fsconfig(fs, kFsconfigSetString, "workdir", work_.c_str(), 0) == 0 &&
         sys_fsconfig(fs, kFsconfigCmdCreate, nullptr, nullptr, 0) == 0;
    int m = ok ? sys_fsmount(fs, kFsmountCloexec, 0) : -1;
    int saved = errno;
    if (m >= 0) {
      mounted = sys_move_mount(m, "", AT_FDCWD, root_.c_str(), kMoveMountFEmptyPath) == 0;
      saved = errno;
      ::close(m);
    }
    ::close(fs);
    errno = saved;
    if (!mounted && errno != EINVAL && errno != ENOSYS) return fail(kStepOverlay);
    t.used_new_mount_api = mounted ? 1 : 0;
  }
  if (!mounted) {
    if (legacy_options_.size() >= 4096) {
      errno = E2BIG;
      return fail(kStepOverlay);
    }
    if (::mount("overlay", root_.c_str(), "overlay", 0, legacy_options_.c_str()) != 0) return fail(kStepOverlay);
  }
  t.overlay_ns = monotonic_ns();

  for (const auto& d : mkdirs_) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return fail(kStepBind);
  }
  for (size_t i = 0; i < bind_src_.size(); ++i) {
    if (::mount(bind_src_[i].c_str(), bind_dst_[i].c_str(), nullptr, MS_BIND, nullptr) != 0) return fail(kStepBind);
  }
  if (::mkdir(proc_.c_str(), 0555) != 0 && errno != EEXIST) return fail(kStepProc);
  if (::mount("proc", proc_.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) return fail(kStepProc);
  if (::mkdir(dev_.c_str(), 0755) != 0 && errno != EEXIST) return fail(kStepDev);
  if (::mount("/dev", dev_.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) return fail(kStepDev);
  t.binds_ns = monotonic_ns();
  if (::chdir(root_.c_str()) != 0) return fail(kStepPivot);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return fail(kStepPivot);
  if (::umount2(".", MNT_DETACH) != 0) return fail(kStepPivot);
  if (::chdir("/") != 0) return fail(kStepPivot);
  t.pivot_ns = monotonic_ns();
  if (::chdir(working_dir_.c_str()) != 0) {
    // Runtimes create a missing WorkingDir; so do we (in the upper layer).
    if (errno != ENOENT || ::mkdir(working_dir_.c_str(), 0755) != 0 || ::chdir(working_dir_.c_str()) != 0) {
      return fail(kStepWorkdir);
    }
  }
  if (uid_ != 0 || gid_ != 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid_) != 0 || ::setuid(uid_) != 0) return fail(kStepUser);
  }
  t.exec_ns = monotonic_ns();
  return 0;
}

std::string RootfsPlan::describe_failure() const {
  return std::string("entering the image: ") + step_name(shared_->failed_step) + ": " +
         std::strerror(shared_->failed_errno);
}

namespace {

// A field of a passwd/group line "name:x:uid:gid:..." for `name`.
std::optional<std::string> lookup_id(const Tree& tree, const std::string& file, const std::string& name, size_t field) {
  auto path = tree.resolve(file);
  if (!path) return std::nullopt;
  auto text = read_text_file(tree.host_path(*path));
  if (!text) return std::nullopt;
  for (const auto& line : split(*text, '\n')) {
    auto f = split(line, ':');
    if (f.size() > field && f[0] == name) return f[field];
  }
  return std::nullopt;
}

std::optional<uint32_t> number(const std::string& s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return static_cast<uint32_t>(std::stoul(s));
}

}  // namespace

RunConfig make_run_config(const ImageConfig& config, const Tree& tree, const std::vector<std::string>& command) {
  RunConfig rc;
  if (!command.empty()) {
    rc.argv = command;
  } else {
    rc.argv = config.entrypoint;
    rc.argv.insert(rc.argv.end(), config.cmd.begin(), config.cmd.end());
  }
  if (rc.argv.empty()) throw UserError("the image has no Entrypoint or Cmd: give a COMMAND");
  rc.env = config.env;
  bool has_path = false;
  for (const auto& kv : rc.env) has_path = has_path || kv.starts_with("PATH=");
  if (!has_path) rc.env.insert(rc.env.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  auto program = tree.find_program(rc.argv[0], rc.env);
  if (!program) throw UserError("command not found in the image: " + rc.argv[0]);
  rc.argv[0] = *program;
  if (!config.working_dir.empty()) rc.working_dir = config.working_dir;
  if (!config.user.empty()) {
    std::string user = config.user;
    std::string group;
    if (size_t colon = user.find(':'); colon != std::string::npos) {
      group = user.substr(colon + 1);
      user = user.substr(0, colon);
    }
    if (auto n = number(user)) {
      rc.uid = *n;
      auto g = lookup_id(tree, "/etc/passwd", user, 3);
      rc.gid = g && number(*g) ? *number(*g) : *n;
    } else {
      auto uid = lookup_id(tree, "/etc/passwd", user, 2);
      auto gid = lookup_id(tree, "/etc/passwd", user, 3);
      if (!uid || !number(*uid)) throw UserError("the image's User '" + config.user + "' is not in its /etc/passwd");
      rc.uid = *number(*uid);
      rc.gid = gid && number(*gid) ? *number(*gid) : rc.uid;
    }
    if (!group.empty()) {
      if (auto n = number(group)) rc.gid = *n;
      else if (auto g = lookup_id(tree, "/etc/group", group, 2); g && number(*g)) rc.gid = *number(*g);
      else throw UserError("the image's User group '" + group + "' is not in its /etc/group");
    }
  }
  return rc;
}

}  // namespace coldstart::image
