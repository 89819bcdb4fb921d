// spawn(): clone3 + execve with everything the launcher needs between the two.
//
// Algorithm. Everything the child needs (argv/envp arrays, fd plan) is built
// before the clone, so the child only makes async-signal-safe system calls.
// The parent blocks every signal around clone3 so no handler of ours runs in
// the child; the child resets the dispositions we may have changed, unblocks,
// and then: PR_SET_PDEATHSIG(SIGKILL) + getppid() check (dies with us), its own
// process group, cgroup v1 attaches (write "0" to cgroup.procs), the paused
// wait, stdio and passed fds, chdir, LISTEN_PID, the caller's hook, execve.
//
// Kernel facts relied on:
//  * clone3(CLONE_VM | CLONE_VFORK) with a stack of its own runs the child in
//    our address space while we are suspended until its execve: no page-table
//    copy (posix_spawn's trick). Our stack frames stay untouched because the
//    child starts on its own stack (a few lines of x86-64 assembly).
//  * clone3(CLONE_PIDFD | CLONE_INTO_CGROUP) (Linux 5.7) starts the child
//    directly in a v2 cgroup: no migration, which would take the global
//    cgroup_threadgroup_rwsem for writing. Without clone3 we fall back to fork
//    + the child writing "0" to cgroup.procs, and pidfd_open.
//  * A pidfd becomes readable when the process exits; waitid(P_PIDFD) reaps it
//    without racing a pid reuse; wait4-style rusage comes from the raw waitid.
//  * An O_CLOEXEC pipe reads EOF exactly when execve succeeded: the child
//    writes {stage, errno} to it otherwise (bpftrace's util/proc.cpp does so).
#include "core/process.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/file.h"

extern char** environ;

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace coldstart {
namespace {

// What failed in the child, sent over the error pipe.
enum ChildStage : int { kStageAttach = 1, kStageWait, kStageStdio, kStageChdir, kStageHook, kStageExec, kStageCredentials };

struct ChildReport {
  int stage;
  int err;
};

const char* stage_name(int stage) {
  switch (stage) {
    case kStageAttach: return "cgroup attach";
    case kStageWait: return "paused start";
    case kStageStdio: return "dup2";
    case kStageChdir: return "chdir";
    case kStageHook: return "child hook";
    case kStageCredentials: return "setgroups/setresgid/setresuid";
    default: return "execve";
  }
}

// The child's plan, all pointers into memory prepared before the clone.
struct ChildPlan {
  const SpawnOptions* options;
  const char* path;
  char* const* argv;
  char* const* envp;
  char* const* own_pid_slots;  // just after "NAME=" in the env copy: the child writes its pid
  size_t own_pid_slot_count;
  pid_t parent;
  int error_fd;
  int go_fd;
  int v2_procs_fd;  // fork fallback: cgroup.procs of the v2 cgroup, else -1
  // Written by a child that shares our memory (CLONE_VM): how long its
  // cgroup attaches took. The parent moves t0 by that much (see spawn()).
  int64_t* attach_ns;
};

[[noreturn]] void child_fail(int fd, int stage, int err) {
  ChildReport r{stage, err};
  ssize_t ignored = ::write(fd, &r, sizeof r);
  (void)ignored;
  _exit(127);
}

// Moves fd to a number >= floor (close-on-exec); returns the new fd or -1.
int relocate(int fd, int floor) { return fd < 0 ? -1 : ::fcntl(fd, F_DUPFD_CLOEXEC, floor); }

void write_decimal(char* out, long v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (int i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  out[n] = '\0';
}

[[noreturn]] void child_main(const ChildPlan& plan) {
  const SpawnOptions& o = *plan.options;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM}) {
    ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != plan.parent) _exit(127);  // the parent died before prctl
  if (o.new_process_group) ::setpgid(0, 0);

  // Fds 3..3+n are targets of pass_fds: move what we still need above them.
  const int first_free = 3 + static_cast<int>(o.pass_fds.size());
  int err_fd = relocate(plan.error_fd, first_free);
  if (err_fd < 0) _exit(127);

  const int64_t attach_begin = monotonic_ns();
  if (plan.v2_procs_fd >= 0 && ::write(plan.v2_procs_fd, "0", 1) != 1) child_fail(err_fd, kStageAttach, errno);
  for (int fd : o.attach_procs_fds) {
    if (::write(fd, "0", 1) != 1) child_fail(err_fd, kStageAttach, errno);
  }
  *plan.attach_ns = monotonic_ns() - attach_begin;
  if (plan.go_fd >= 0) {
    char c = 0;
    ssize_t n;
    do n = ::read(plan.go_fd, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) _exit(127);  // the parent gave up on this child
  }

  int moved[64];
  const size_t npass = o.pass_fds.size() < 64 ? o.pass_fds.size() : 64;
  for (size_t i = 0; i < npass; ++i) {
    moved[i] = relocate(o.pass_fds[i], first_free);
    if (moved[i] < 0) child_fail(err_fd, kStageStdio, errno);
  }
  int stdio[3] = {relocate(o.stdin_fd, first_free), relocate(o.stdout_fd, first_free),
                  relocate(o.stderr_fd, first_free)};
  for (int i = 0; i < 3; ++i) {
    if (stdio[i] >= 0 && ::dup2(stdio[i], i) < 0) child_fail(err_fd, kStageStdio, errno);
  }
  for (size_t i = 0; i < npass; ++i) {
    if (::dup2(moved[i], 3 + static_cast<int>(i)) < 0) child_fail(err_fd, kStageStdio, errno);
  }
  // Nothing else of ours crosses the exec (inherited stray fds included).
  ::syscall(SYS_close_range, static_cast<unsigned>(first_free), ~0U, CLOSE_RANGE_CLOEXEC);

  if (o.credentials) {
    // Groups first: once the uid is not 0 they can no longer be changed. A
    // credential change clears the parent-death signal: set it again.
    const Credentials& c = *o.credentials;
    if (::setgroups(c.groups.size(), c.groups.data()) != 0 || ::setresgid(c.gid, c.gid, c.gid) != 0 ||
        ::setresuid(c.uid, c.uid, c.uid) != 0)
      child_fail(err_fd, kStageCredentials, errno);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != plan.parent) _exit(127);
  }
  if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) child_fail(err_fd, kStageChdir, errno);
  for (size_t i = 0; i < plan.own_pid_slot_count; ++i) write_decimal(plan.own_pid_slots[i], ::getpid());
  if (o.hook != nullptr) {
    int err = o.hook(o.hook_arg);
    if (err != 0) child_fail(err_fd, kStageHook, err);
  }
  ::execve(plan.path, plan.argv, plan.envp);
  child_fail(err_fd, kStageExec, errno);
}

// clone3 whose child runs `fn(arg)` on its own stack and never returns: what
// CLONE_VM | CLONE_VFORK needs (like posix_spawn), since the child may not
// touch the parent's stack frames. x86-64 only; elsewhere, and under
// AddressSanitizer (which tracks one stack per thread), spawn forks.
#if defined(__SANITIZE_ADDRESS__)
#define COLDSTART_NO_VFORK_CLONE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COLDSTART_NO_VFORK_CLONE 1
#endif
#endif
#if defined(__x86_64__) && !defined(COLDSTART_NO_VFORK_CLONE)
constexpr bool kHaveVforkClone = true;
__attribute__((noinline)) long clone3_on_stack(clone_args* args, int (*fn)(void*), void* arg) {
  long ret;
  register long r_fn asm("r12") = reinterpret_cast<long>(fn);
  register long r_arg asm("r13") = reinterpret_cast<long>(arg);
  asm volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xor %%ebp, %%ebp\n\t"  // the child: a fresh, 16-byte aligned stack
      "mov %%r13, %%rdi\n\t"
      "call *%%r12\n\t"
      "mov %%eax, %%edi\n\t"
      "mov $60, %%eax\n\t"  // SYS_exit, should fn ever return
      "syscall\n\t"
      "hlt\n\t"
      "1:\n\t"
      : "=a"(ret)
      : "0"(static_cast<long>(SYS_clone3)), "D"(args), "S"(sizeof(clone_args)), "r"(r_fn), "r"(r_arg)
      : "rcx", "r11", "memory");
  return ret;
}
#else
constexpr bool kHaveVforkClone = false;
long clone3_on_stack(clone_args*, int (*)(void*), void*) { return -ENOSYS; }
#endif

int child_entry(void* plan) { child_main(*static_cast<const ChildPlan*>(plan)); }

// The vfork child's stack: one per thread (the parent thread is suspended
// while its child uses it), mapped once.
void* child_stack(size_t size) {
  thread_local void* stack = nullptr;
  if (stack == nullptr) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    stack = p == MAP_FAILED ? nullptr : p;
  }
  return stack;
}
constexpr size_t kChildStackSize = 256 * 1024;

// Blocks every signal for its lifetime (around clone3, so no handler of ours
// runs in the child before it resets them).
class BlockAllSignals {
 public:
  BlockAllSignals() {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old_);
  }
  ~BlockAllSignals() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  BlockAllSignals(const BlockAllSignals&) = delete;
  BlockAllSignals& operator=(const BlockAllSignals&) = delete;

 private:
  sigset_t old_;
};

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : fmt::format("signal {}", sig);
}

}  // namespace

std::string ExitStatus::describe() const {
  if (signal != 0) return "killed by " + signal_name(signal) + (core_dumped ? " (core dumped)" : "");
  return fmt::format("exit code {}", code);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept { *this = std::move(other); }

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    go_ = std::move(other.go_);
    error_ = std::move(other.error_);
    program_ = std::move(other.program_);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

ChildProcess::~ChildProcess() { kill_and_reap(); }

void ChildProcess::kill_and_reap() {
  if (pid_ > 0 && !status_) {
    signal(SIGKILL);
    reap(0);
  }
}

std::optional<ExitStatus> reap_pidfd(int pidfd, int flags) {
  siginfo_t info{};
  rusage ru{};
  long r;
  do r = ::syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED | flags, &ru);
  while (r < 0 && errno == EINTR);
  if (r < 0 || info.si_pid == 0) return std::nullopt;
  ExitStatus s;
  s.usage = ru;
  if (info.si_code == CLD_EXITED) {
    s.code = info.si_status;
  } else {
    s.signal = info.si_status;
    s.core_dumped = info.si_code == CLD_DUMPED;
  }
  return s;
}

bool ChildProcess::signal(int sig) const {
  if (pid_ <= 0 || status_) return false;
  return ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) == 0;
}

std::optional<ExitStatus> ChildProcess::reap(int flags) {
  if (status_) return status_;
  if (pid_ <= 0) return std::nullopt;
  status_ = reap_pidfd(pidfd_.get(), flags);
  return status_;
}

std::optional<ExitStatus> ChildProcess::try_wait() { return reap(WNOHANG); }

ExitStatus ChildProcess::wait() {
  auto s = reap(0);
  if (!s) throw_sys("waitid", program_);
  return *s;
}

void ChildProcess::await_exec() {
  ChildReport report{};
  ssize_t n;
  do n = ::read(error_.get(), &report, sizeof report);
  while (n < 0 && errno == EINTR);
  error_.reset();
  if (n == static_cast<ssize_t>(sizeof report)) {
    reap(0);
    throw UserError(sys_message(stage_name(report.stage), program_, report.err));
  }
  if (n != 0) {
    // The child died before exec without a report (e.g. we were about to die).
    reap(0);
    throw UserError("spawn " + program_ + ": the child died before exec");
  }
}

void ChildProcess::resume() {
  if (!go_) throw UserError("resume: " + program_ + " was not started paused");
  char c = 'g';
  ssize_t n = ::write(go_.get(), &c, 1);
  go_.reset();
  if (n != 1) throw_sys("write", "paused-start pipe");
  await_exec();
}

std::string resolve_program(const std::string& name) {
  if (name.empty()) throw UserError("empty command");
  auto check = [](const std::string& path) -> int {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return errno;
    if (S_ISDIR(st.st_mode)) return EISDIR;
    if (::access(path.c_str(), X_OK) != 0) return errno;
    return 0;
  };
  if (name.find('/') != std::string::npos) {
    int err = check(name);
    if (err == ENOENT) throw UserError("command not found: " + name);
    if (err != 0) throw UserError(sys_message("cannot execute", name, err));
    return name;
  }
  const char* path_env = std::getenv("PATH");
  std::string path = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  int denied = 0;
  size_t start = 0;
  for (;;) {
    size_t end = path.find(':', start);
    std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    int err = check(candidate);
    if (err == 0) return candidate;
    if (err == EACCES) denied = err;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (denied != 0) throw UserError(sys_message("cannot execute", name, denied));
  throw UserError("command not found: " + name);
}

std::vector<std::string> environment_with(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  auto key_of = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    bool replaced = false;
    for (const auto& o : overrides) replaced = replaced || key_of(o) == key_of(kv);
    if (!replaced) env.push_back(std::move(kv));
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

ChildProcess spawn(const SpawnOptions& options) {
  if (options.argv.empty()) throw UserError("empty command");
  if (options.pass_fds.size() > 64) throw UserError("at most 64 fds can be passed");
  std::string path = options.program_in_hook_root ? options.argv[0] : resolve_program(options.argv[0]);

  // argv/envp as C arrays; the env strings are copies the child may edit.
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_copy = options.env;
  std::vector<char*> own_pid_slots;
  for (int index : options.own_pid_env_indexes) {
    std::string& e = env_copy.at(static_cast<size_t>(index));
    const size_t name_end = e.find('=') + 1;
    e.resize(name_end);
    e += std::string(20, '0');  // fixed width: the child writes digits + NUL
    own_pid_slots.push_back(e.data() + name_end);
  }
  std::vector<char*> envp;
  for (auto& e : env_copy) envp.push_back(e.data());
  envp.push_back(nullptr);

  Pipe error = make_pipe();
  Pipe go;
  if (options.paused) go = make_pipe();

  ChildProcess child;
  child.program_ = path;
  int64_t attach_ns = 0;
  ChildPlan plan{&options, path.c_str(), argv.data(), envp.data(), own_pid_slots.data(), own_pid_slots.size(), ::getpid(),
                 error.write_end.get(), go.read_end.get(), -1, &attach_ns};

  int pidfd = -1;
  pid_t pid;
  {
    BlockAllSignals blocked;
    clone_args args{};
    args.flags = CLONE_PIDFD | (options.cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
    args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    args.cgroup = options.cgroup_fd >= 0 ? static_cast<uint64_t>(options.cgroup_fd) : 0;
    // Unless paused (the parent must run while the child waits), share the
    // address space and suspend the parent until exec, as posix_spawn does:
    // no page-table copy, which would cost ~0.15 ms inside the timed window.
    void* stack = options.paused || !kHaveVforkClone ? nullptr : child_stack(kChildStackSize);
    if (stack != nullptr) {
      args.flags |= CLONE_VM | CLONE_VFORK;
      args.stack = reinterpret_cast<uint64_t>(stack);
      args.stack_size = kChildStackSize;
    }
    if (options.t0_ns != nullptr) *options.t0_ns = monotonic_ns();
    if (stack != nullptr) {
      long r = clone3_on_stack(&args, child_entry, &plan);
      pid = r < 0 ? -1 : static_cast<pid_t>(r);
      if (r < 0) errno = static_cast<int>(-r);
    } else {
      pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
      if (pid == 0) child_main(plan);
    }
    if (pid < 0 && errno == ENOSYS) {
      // Kernels before 5.3/5.7: fork, then the child joins its cgroup itself.
      UniqueFd procs;
      if (options.cgroup_fd >= 0) {
        procs.reset(::openat(options.cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC));
        if (!procs) throw_sys("open", "cgroup.procs");
        plan.v2_procs_fd = procs.get();
      }
      pid = ::fork();
      if (pid == 0) child_main(plan);
      if (pid > 0) pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    }
  }
  if (pid < 0) throw_sys("clone3", path);
  // A v1 cgroup attach (write to cgroup.procs) takes cgroup_threadgroup_rwsem
  // for writing, which waits for an RCU grace period: 10-25 ms on an idle VM
  // of this kind, cheap when attaches follow each other. That is our
  // containment, not the target's start, so it leaves the timed window: t0
  // moves by what the vfork child measured (the parent was suspended until
  // its exec, so the value is final). A fork()ed child's value stays 0.
  if (options.t0_ns != nullptr && !options.attach_in_window) *options.t0_ns += attach_ns;
  if (options.attach_ns != nullptr) *options.attach_ns = attach_ns;
  child.pid_ = pid;
  child.pidfd_.reset(pidfd);
  child.error_ = std::move(error.read_end);
  error.write_end.reset();
  if (options.paused) {
    child.go_ = std::move(go.write_end);
    return child;
  }
  child.await_exec();
  return child;
}

}  // namespace coldstart
