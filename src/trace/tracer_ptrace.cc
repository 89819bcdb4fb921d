// The ptrace backend: for users without BPF privileges. The cost of ptrace is
// two stops per traced syscall (entry, exit), so, as `strace --seccomp-bpf`
// does, the child installs a seccomp filter before exec that returns
// SECCOMP_RET_TRACE only for the syscalls the output needs (file opens,
// sleeps, socket waits, listen, exec; with --detail full also file reads);
// every other syscall runs at full speed. Reads are the most frequent call of
// a start (the syscall-dense fixture: as many as opens), so the summary does
// not stop on them: it gives up bytes read and read waits, not file opens.
//
// Kernel facts relied on:
//  - PTRACE_SEIZE from our tracer thread while the child is paused before
//    exec; TRACECLONE/FORK/VFORK auto-attach the whole tree; TRACEEXEC gives
//    the exec instant; EXITKILL kills the tree if we die.
//  - A seccomp-stop is a syscall-entry stop; PTRACE_SYSCALL from it yields the
//    matching syscall-exit stop (SIGTRAP|0x80 with TRACESYSGOOD).
//  - With no tracer attached, SECCOMP_RET_TRACE makes the syscall fail with
//    ENOSYS. So we never detach a live tracee: after ready we only stop
//    recording and keep resuming stops until the launcher has stopped the tree.
//  - Only the tracer thread may wait for its tracees; __WNOTHREAD keeps it
//    from ever reaping the launcher's child once we detached it (at its
//    PTRACE_EVENT_EXIT stop), and WNOWAIT lets us look at a zombie root
//    without taking its status from the launcher.
//  - Breakpoints: int3 (0xCC) at the entry point (AT_ENTRY from
//    /proc/<pid>/auxv, which already includes a PIE's load base) and at main
//    (load base + st_value); on the hit, the original byte goes back and rip
//    is rewound by one.
//  - On-CPU and run-queue time come from /proc/<tid>/schedstat, sampled at
//    each phase boundary (we have no context-switch events here).
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/clock.h"
#include "core/file.h"
#include "core/strings.h"
#include "trace/tracer.h"

namespace coldstart::trace {
namespace {

// Stopped at both detail levels.
constexpr int kTraced[] = {SCMP_SYS(open), SCMP_SYS(openat),
                           SCMP_SYS(openat2), SCMP_SYS(execve), SCMP_SYS(connect), SCMP_SYS(accept),
                           SCMP_SYS(accept4), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(nanosleep),
                           SCMP_SYS(clock_nanosleep), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select),
                           SCMP_SYS(pselect6), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
                           // which thread made it ready: the first listen() (READY=1's connect
                           // is above; a stop in every sendto/sendmsg would sit between the
                           // target's READY=1 and our seeing it, so those stay unfiltered)
                           SCMP_SYS(listen)};
// Only with --detail full: bytes read from files and read waits (disk, network).
constexpr int kTracedFull[] = {SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(readv)};

// The filter as classic BPF, built in the parent (the child must not allocate).
std::vector<sock_filter> build_filter(Detail detail) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) throw BackendUnavailable("seccomp_init failed");
  for (int nr : kTraced) seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), nr, 0);
  if (detail == Detail::kFull)
    for (int nr : kTracedFull) seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), nr, 0);
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);  // the child sets no_new_privs itself
  UniqueFd mem(static_cast<int>(::syscall(SYS_memfd_create, "seccomp", 1u /* MFD_CLOEXEC */)));
  int rc = mem ? seccomp_export_bpf(ctx, mem.get()) : -errno;
  seccomp_release(ctx);
  if (rc != 0) throw BackendUnavailable(std::string("seccomp_export_bpf: ") + std::strerror(-rc));
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(mem.get(), prog.data(), prog.size() * sizeof(sock_filter), 0) != static_cast<ssize_t>(size))
    throw BackendUnavailable("reading the exported seccomp filter failed");
  return prog;
}

bool is_socket_fd(pid_t pid, uint64_t fd) {
  char link[64];
  std::string p = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(p.c_str(), link, sizeof link - 1);
  return n > 0 && std::string_view(link, static_cast<size_t>(n)).substr(0, 7) == "socket:";
}

std::string read_string(pid_t pid, uint64_t addr) {
  std::string out;
  char buf[256];
  while (out.size() < 4096 && addr != 0) {
    size_t chunk = 256 - (addr % 256);  // never cross into an unmapped page in one read
    iovec local{buf, chunk}, remote{reinterpret_cast<void*>(addr), chunk};
    ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    size_t len = strnlen(buf, static_cast<size_t>(n));
    out.append(buf, len);
    if (len < static_cast<size_t>(n)) break;
    addr += static_cast<uint64_t>(n);
  }
  return out;
}

std::optional<uint64_t> auxv_entry(pid_t pid) {
  auto text = read_text_file("/proc/" + std::to_string(pid) + "/auxv");
  if (!text) return std::nullopt;
  for (size_t off = 0; off + 16 <= text->size(); off += 16) {
    uint64_t key, value;
    std::memcpy(&key, text->data() + off, 8);
    std::memcpy(&value, text->data() + off + 8, 8);
    if (key == AT_ENTRY) return value;
  }
  return std::nullopt;
}

pid_t tgid_from_proc(pid_t tid) {
  auto status = read_text_file("/proc/" + std::to_string(tid) + "/status");
  if (!status) return tid;
  for (const auto& line : split(*status, '\n'))
    if (starts_with(line, "Tgid:")) return static_cast<pid_t>(std::atoi(line.c_str() + 5));
  return tid;
}

WaitCause cause_of(int nr, bool socket) {
  switch (nr) {
    case SCMP_SYS(nanosleep): case SCMP_SYS(clock_nanosleep): return WaitCause::kSleep;
    case SCMP_SYS(read): case SCMP_SYS(pread64): case SCMP_SYS(readv):
      return socket ? WaitCause::kNetwork : WaitCause::kDisk;
    case SCMP_SYS(open): case SCMP_SYS(openat): case SCMP_SYS(openat2): case SCMP_SYS(execve): return WaitCause::kOther;
    case SCMP_SYS(listen): return WaitCause::kOther;  // recorded to find the ready thread
  }
  return WaitCause::kNetwork;  // connect, accept, recv*, poll/select/epoll
}

/// PtraceTracer runs one tracer thread that seizes the paused child, services
/// every ptrace stop of its tree, and records into the TraceLog until
/// finish(); it keeps servicing stops (without recording) until the tree is
/// gone, since the seccomp filter needs a tracer for the tree's whole life.
class PtraceTracer final : public Tracer {
 public:
  explicit PtraceTracer(Detail detail) : detail_(detail) {}
  ~PtraceTracer() override {
    if (thread_.joinable()) thread_.join();
  }
  std::string_view backend() const override { return "ptrace"; }

  void prepare(const TraceTarget& target) override {
    target_ = target;
    filter_ = build_filter(detail_);
    fprog_ = {static_cast<unsigned short>(filter_.size()), filter_.data()};
    log_.backend = "ptrace";
    log_.program = target.program;
    log_.main_symbol = target.main_symbol;
    log_.main_source = target.main_source;
    for (const auto& n : target.notes) log_.notes.push_back(n);
  }

  int child_pre_exec() noexcept override {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog_) != 0) return errno;
    return 0;
  }

  void follow(pid_t pid, uint64_t /*cgroup_id: ptrace follows the tree itself*/) override {
    root_ = pid;
    log_.root_pid = pid;
    std::unique_lock lock(mu_);
    thread_ = std::thread([this] { run(); });
    seized_cv_.wait(lock, [this] { return seize_result_.has_value(); });
    if (*seize_result_ != 0) {
      thread_.join();
      throw BackendUnavailable(std::string("ptrace(PTRACE_SEIZE): ") + std::strerror(*seize_result_));
    }
  }

  TraceLog finish(int64_t t0_ns, int64_t end_ns, std::optional<int64_t> ready_ns,
                  const std::string& outcome) override {
    std::lock_guard lock(mu_);
    sample_cpu(end_ns);
    recording_ = false;
    check_libc_argument(target_, log_);
    log_.t0_ns = t0_ns;
    log_.end_ns = end_ns;
    log_.ready_ns = ready_ns;
    log_.outcome = outcome;
    log_.notes.push_back("ptrace backend: only the syscalls of its seccomp filter are recorded; waits are "
                         "syscall durations; no run-queue split of blocked time");
    if (detail_ == Detail::kSummary)
      log_.notes.push_back("ptrace backend, summary detail: reads are not stopped: no bytes read, no read "
                           "waits (--detail full stops on them)");
    return log_;
  }

 private:
  struct Inflight {
    int nr = -1;
    int64_t start_ns = 0;
    uint64_t args[3] = {};
    std::string path;
  };

  void run() {
    long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
                PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL;
    int rc = ::ptrace(PTRACE_SEIZE, root_, nullptr, reinterpret_cast<void*>(opts)) == 0 ? 0 : errno;
    {
      std::lock_guard lock(mu_);
      seize_result_ = rc;
      live_.insert(root_);
      if (rc == 0) sample_thread(root_, monotonic_ns());  // the baseline before resume
    }
    seized_cv_.notify_all();
    if (rc != 0) return;
    for (;;) {
      siginfo_t info{};
      if (::waitid(P_ALL, 0, &info, WEXITED | WSTOPPED | __WALL | __WNOTHREAD | WNOWAIT) != 0) {
        if (errno == EINTR) continue;
        return;  // ECHILD: no tracee left
      }
      pid_t tid = info.si_pid;
      if (info.si_code == CLD_EXITED || info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
        std::lock_guard lock(mu_);
        live_.erase(tid);
        tgids_.erase(tid);  // the tid may be reused
        if (tid == root_) {  // the launcher's child: its status is the launcher's to take
          root_gone_ = true;
          if (live_.empty()) return;
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          continue;
        }
      }
      int status = 0;
      if (::waitpid(tid, &status, __WALL | __WNOTHREAD) != tid) continue;
      if (WIFSTOPPED(status)) on_stop(tid, status);
    }
  }

  void resume(pid_t tid, int sig = 0) {
    auto it = inflight_.find(tid);
    int req = it != inflight_.end() && it->second.nr >= 0 ? PTRACE_SYSCALL : PTRACE_CONT;
    ::ptrace(static_cast<__ptrace_request>(req), tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
  }

  void on_stop(pid_t tid, int status) {
    int64_t now = monotonic_ns();
    int sig = WSTOPSIG(status);
    int event = status >> 16;
    std::lock_guard lock(mu_);
    if (sig == (SIGTRAP | 0x80)) return syscall_exit(tid, now);
    switch (event) {
      case PTRACE_EVENT_SECCOMP: return syscall_enter(tid, now);
      case PTRACE_EVENT_EXEC: return on_exec(tid, now);
      case PTRACE_EVENT_CLONE: case PTRACE_EVENT_FORK: case PTRACE_EVENT_VFORK: {
        unsigned long child = 0;
        ::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &child);
        live_.insert(static_cast<pid_t>(child));
        // Learned once per task here, not from /proc at every stop.
        pid_t ctgid = tgid_from_proc(static_cast<pid_t>(child));
        tgids_[static_cast<pid_t>(child)] = ctgid;
        if (recording_)
          log_.tasks.push_back({event == PTRACE_EVENT_CLONE && ctgid != static_cast<pid_t>(child) ? TaskEvent::Kind::kThread
                                                                                                 : TaskEvent::Kind::kProcess,
                                tgid_of(tid), tid, now, static_cast<pid_t>(child), 0, {}});
        return resume(tid);
      }
      case PTRACE_EVENT_EXIT: {
        unsigned long code = 0;
        ::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &code);
        if (recording_) {
          log_.tasks.push_back({TaskEvent::Kind::kExit, tgid_of(tid), tid, now, 0, static_cast<int>(code), {}});
          sample_thread(tid, now);  // its last counters: /proc forgets it soon
        }
        if (tid == root_) {  // from now on the launcher alone waits for it
          ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
          live_.erase(tid);
          return;
        }
        return resume(tid);
      }
      case PTRACE_EVENT_STOP: return resume(tid);
    }
    if (sig == SIGTRAP && on_breakpoint(tid, now)) return;  // resumed there
    resume(tid, sig == SIGTRAP ? 0 : sig);
  }

  pid_t tgid_of(pid_t tid) {
    auto it = tgids_.find(tid);
    if (it != tgids_.end()) return it->second;
    return tgids_[tid] = tgid_from_proc(tid);
  }

  void syscall_enter(pid_t tid, int64_t now) {
    user_regs_struct regs{};
    ::ptrace(PTRACE_GETREGS, tid, nullptr, &regs);
    Inflight f;
    f.nr = static_cast<int>(regs.orig_rax);
    f.start_ns = now;
    f.args[0] = regs.rdi, f.args[1] = regs.rsi, f.args[2] = regs.rdx;
    if (f.nr == SCMP_SYS(open)) f.path = read_string(tid, regs.rdi);
    if (f.nr == SCMP_SYS(openat) || f.nr == SCMP_SYS(openat2)) f.path = read_string(tid, regs.rsi);
    inflight_[tid] = std::move(f);
    resume(tid);
  }

  void syscall_exit(pid_t tid, int64_t now) {
    auto it = inflight_.find(tid);
    if (it == inflight_.end()) return resume(tid);
    Inflight f = std::move(it->second);
    inflight_.erase(it);
    user_regs_struct regs{};
    ::ptrace(PTRACE_GETREGS, tid, nullptr, &regs);
    if (recording_ && f.nr != SCMP_SYS(execve)) {
      pid_t pid = tgid_of(tid);
      bool socket = cause_of(f.nr, false) == WaitCause::kNetwork ||
                    ((f.nr == SCMP_SYS(read) || f.nr == SCMP_SYS(readv) || f.nr == SCMP_SYS(pread64)) &&
                     is_socket_fd(tid, f.args[0]));
      log_.syscalls.push_back({pid, tid, f.nr, f.start_ns, now, static_cast<int64_t>(regs.rax), f.args[0], socket, f.path});
      WaitCause cause = cause_of(f.nr, socket);
      if (cause != WaitCause::kOther) log_.off_cpu.push_back({pid, tid, f.start_ns, now, now, cause, f.nr});
    }
    resume(tid);
  }

  void on_exec(pid_t tid, int64_t now) {
    inflight_.erase(tid);  // execve does not return to the old image's exit stop
    if (recording_) {
      log_.tasks.push_back({TaskEvent::Kind::kExec, tgid_of(tid), tid, now, 0, 0,
                            read_text_file("/proc/" + std::to_string(tid) + "/comm").value_or("")});
      if (tid == root_ && !log_.exec_ns) {
        log_.exec_ns = now;
        sample_cpu(now);
        if (auto entry = auxv_entry(tid)) {
          load_base_ = *entry - target_.entry_vaddr;  // 0 unless PIE
          insert_breakpoint(tid, *entry, &entry_bp_);
        }
      }
    }
    resume(tid);
  }

  struct Breakpoint {
    uint64_t addr = 0;
    long original = 0;
    bool armed = false;
  };

  void insert_breakpoint(pid_t tid, uint64_t addr, Breakpoint* bp) {
    errno = 0;
    long word = ::ptrace(PTRACE_PEEKTEXT, tid, reinterpret_cast<void*>(addr), nullptr);
    if (errno != 0) return;
    long patched = (word & ~0xffL) | 0xcc;
    if (::ptrace(PTRACE_POKETEXT, tid, reinterpret_cast<void*>(addr), reinterpret_cast<void*>(patched)) != 0) return;
    *bp = {addr, word, true};
  }

  bool on_breakpoint(pid_t tid, int64_t now) {
    user_regs_struct regs{};
    if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return false;
    for (Breakpoint* bp : {&entry_bp_, &libc_bp_, &main_bp_}) {
      if (!bp->armed || regs.rip - 1 != bp->addr) continue;
      ::ptrace(PTRACE_POKETEXT, tid, reinterpret_cast<void*>(bp->addr), reinterpret_cast<void*>(bp->original));
      regs.rip -= 1;
      ::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
      bp->armed = false;
      if (bp == &entry_bp_) {
        if (recording_) log_.entry_ns = now;
        // libc is mapped by now (the loader ran): stop at __libc_start_main
        // and take main from its first argument; else main from the ELF.
        // The loader has bound _start's GOT slot by now: it holds
        // __libc_start_main in the libc it mapped (one read, no /proc walk).
        uint64_t libc_start = 0;
        if (target_.main_source == "libc argument" && target_.libc_start_slot &&
            read_memory(tid, load_base_ + *target_.libc_start_slot, &libc_start, 8) && libc_start != 0)
          insert_breakpoint(tid, libc_start, &libc_bp_);
        if (target_.main_vaddr && !(libc_bp_.armed && target_.main_source == "libc argument"))
          insert_breakpoint(tid, load_base_ + *target_.main_vaddr, &main_bp_);
      } else if (bp == &libc_bp_) {
        if (recording_) log_.libc_main_arg = regs.rdi - load_base_;
        if (!main_bp_.armed && target_.main_source == "libc argument") insert_breakpoint(tid, regs.rdi, &main_bp_);
        resume(tid);
        return true;  // not a phase boundary: no sample
      } else if (recording_) {
        log_.main_ns = now;
      }
      // Resume first: the target runs on while we read its counters (their
      // few µs late are noise; a stopped target would show our latency as its
      // start time, the boundary test's complaint).
      resume(tid);
      if (recording_) sample_cpu(now);
      return true;
    }
    return false;
  }

  // Reads `n` bytes of the tracee's memory.
  static bool read_memory(pid_t tid, uint64_t addr, void* out, size_t n) {
    iovec local{out, n}, remote{reinterpret_cast<void*>(addr), n};
    return ::process_vm_readv(tid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(n);
  }

  // Cumulative counters of one thread: schedstat (on-CPU, run-queue ns) and
  // stat fields 10 and 12 (minflt, majflt), read after the ")" of comm.
  void sample_thread(pid_t tid, int64_t now) {
    std::string dir = "/proc/" + std::to_string(tid);
    auto sched = read_text_file(dir + "/schedstat");
    auto stat = read_text_file(dir + "/stat");
    if (!sched || !stat) return;
    CpuSample s{tid, now, 0, 0, 0, 0};
    long long on = 0, rq = 0;
    if (std::sscanf(sched->c_str(), "%lld %lld", &on, &rq) != 2) return;
    s.on_cpu_ns = on, s.run_queue_ns = rq;
    size_t close = stat->rfind(')');
    if (close != std::string::npos) {
      std::vector<std::string> f = split(std::string_view(*stat).substr(close + 2), ' ');
      // f[0] is field 3 (state): minflt is field 10, majflt field 12.
      if (f.size() > 9) s.minor_faults = std::strtoull(f[7].c_str(), nullptr, 10), s.major_faults = std::strtoull(f[9].c_str(), nullptr, 10);
    }
    log_.cpu_samples.push_back(s);
  }

  // Requires: mu_ held.
  void sample_cpu(int64_t now) {
    for (pid_t tid : live_) sample_thread(tid, now);
  }

  Detail detail_;
  TraceTarget target_;
  std::vector<sock_filter> filter_;
  sock_fprog fprog_{};
  pid_t root_ = -1;
  uint64_t load_base_ = 0;
  Breakpoint entry_bp_, libc_bp_, main_bp_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable seized_cv_;
  std::optional<int> seize_result_;
  std::set<pid_t> live_;
  std::map<pid_t, Inflight> inflight_;
  std::map<pid_t, pid_t> tgids_;  // tid -> tgid of every task seen
  bool recording_ = true;
  bool root_gone_ = false;
  TraceLog log_;
};

}  // namespace

std::unique_ptr<Tracer> make_ptrace_tracer(Detail detail) { return std::make_unique<PtraceTracer>(detail); }

}  // namespace coldstart::trace
