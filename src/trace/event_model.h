// The one event model both tracer backends produce (bpf: tracer_bpf.cc,
// ptrace: tracer_ptrace.cc) and everything downstream reads: phase
// attribution (phases.h), JSON (trace_json.h), the Chrome trace (cli).
// Times are CLOCK_MONOTONIC nanoseconds, the clock of bpf_ktime_get_ns().
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coldstart::trace {

/// The phases of a start, in order. kInit replaces kRuntimeInit + kAppInit
/// when `main` cannot be found (stripped binary).
enum class Phase { kSpawn, kLoader, kRuntimeInit, kAppInit, kInit };
inline constexpr size_t kBackendPhases = 4;  // what backends count faults by: spawn..app-init

/// "spawn", "loader", "runtime-init", "app-init", "init".
std::string_view phase_name(Phase phase);

/// Why a thread was off the CPU.
enum class WaitCause { kDisk, kNetwork, kSleep, kRunQueue, kThrottled, kOther };
inline constexpr size_t kWaitCauses = 6;

/// "disk", "network", "sleeping", "run-queue", "throttled", "other".
std::string_view wait_cause_name(WaitCause cause);

/// One finished syscall. Backends that filter (ptrace + seccomp) record only
/// the syscalls of their filter.
struct Syscall {
  pid_t pid = 0;
  pid_t tid = 0;
  int nr = -1;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t ret = 0;
  uint64_t arg0 = 0;    // first argument (fd for reads)
  bool socket = false;  // works on a socket (network wait when it blocks)
  std::string path;     // for calls that name a file
};

/// One interval a thread spent off the CPU: blocked from start to wake (for
/// `cause`), then runnable from wake to end (run-queue wait).
struct OffCpu {
  pid_t pid = 0;
  pid_t tid = 0;
  int64_t start_ns = 0;
  int64_t wake_ns = 0;  // == start_ns when it never blocked (preempted)
  int64_t end_ns = 0;
  WaitCause cause = WaitCause::kOther;
  int syscall_nr = -1;  // the syscall it blocked in, -1 if none
};

/// A major page fault (the page had to be read from disk).
struct MajorFault {
  pid_t pid = 0;
  pid_t tid = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  uint64_t address = 0;
};

/// A change in the process tree.
struct TaskEvent {
  enum class Kind { kThread, kProcess, kExec, kExit };
  Kind kind = Kind::kThread;
  pid_t pid = 0;  // the acting process (parent for kThread/kProcess)
  pid_t tid = 0;
  int64_t ts_ns = 0;
  pid_t child_tid = 0;  // kThread/kProcess
  int exit_code = 0;    // kExit: the raw wait status the kernel stored
  std::string path;     // kExec
};

/// Cumulative CPU counters of one thread at one instant (from
/// /proc/<tid>/schedstat), for backends that cannot see context switches.
struct CpuSample {
  pid_t tid = 0;
  int64_t ts_ns = 0;
  int64_t on_cpu_ns = 0;
  int64_t run_queue_ns = 0;
  uint64_t minor_faults = 0;  // from /proc/<pid>/task/<tid>/stat
  uint64_t major_faults = 0;
};

/// One Go GC cycle (Go targets): from the sweep-termination stop of the
/// world to the end of mark termination. Two stop-the-world pauses:
/// [start_ns, sweep_term_end_ns] and [mark_term_start_ns, end_ns]; the
/// concurrent mark runs between them. `source` says who saw it: "uprobes"
/// (bpf: runtime functions) or "gctrace" (GODEBUG=gctrace=1 on stderr; its
/// times are relative to the runtime's start, placed at the ELF entry).
struct GcCycle {
  uint64_t number = 0;
  int64_t start_ns = 0;
  int64_t sweep_term_end_ns = 0;
  int64_t mark_term_start_ns = 0;
  int64_t end_ns = 0;
  double mark_cpu_s = 0;  // assist + background + idle mark workers (gctrace only)
  double cpu_s = 0;       // all GC CPU of the cycle (gctrace only)
  uint64_t heap_start_bytes = 0, heap_goal_bytes = 0;  // gctrace only
  std::string source;
  int64_t sweep_term_ns() const { return sweep_term_end_ns - start_ns; }
  int64_t mark_term_ns() const { return end_ns - mark_term_start_ns; }
  int64_t stw_ns() const { return sweep_term_ns() + mark_term_ns(); }
};

/// TraceLog is everything one backend observed about one launch: the phase
/// boundaries and the raw events. It is plain data; summarize() (phases.h)
/// derives the per-phase view from it.
struct TraceLog {
  std::string backend;  // "bpf" or "ptrace"
  std::string program;
  pid_t root_pid = 0;
  int64_t t0_ns = 0;                 // coldstart's spawn
  std::optional<int64_t> exec_ns;    // the root's execve completed
  std::optional<int64_t> entry_ns;   // the ELF entry point ran
  std::optional<int64_t> main_ns;    // main / main.main ran
  std::optional<int64_t> ready_ns;   // readiness observed
  int64_t end_ns = 0;                // end of the traced window (ready, exit or timeout)
  std::string main_symbol;           // "main" or "main.main"; empty if not found
  std::string main_source;           // "symtab", "pclntab" or "libc argument" (elf/ via describe_target)
  std::optional<uint64_t> libc_main_arg;  // __libc_start_main's first argument, as the process saw it
  std::string outcome;               // "ready", or why it ended without ready
  std::vector<Syscall> syscalls;
  std::vector<OffCpu> off_cpu;
  std::vector<MajorFault> major_faults;
  std::vector<TaskEvent> tasks;
  std::vector<CpuSample> cpu_samples;
  std::vector<GcCycle> gc_cycles;  // Go targets, up to the end of the window, in order
  std::array<uint64_t, kBackendPhases> minor_faults{};  // counted by the backend per phase
  // bpf at summary detail: syscalls counted in the kernel per backend phase
  // (by number), and the bytes of file reads; `syscalls` then holds only
  // file opens, sends, connect and listen, each with start == end.
  bool syscalls_counted = false;
  std::array<std::map<int, uint64_t>, kBackendPhases> syscall_counts;
  std::array<uint64_t, kBackendPhases> file_bytes_read{};
  bool has_off_cpu = false;  // the backend saw context switches (bpf)
  uint64_t lost_events = 0;
  std::vector<std::string> notes;  // one-line remarks for the user (fallbacks, missing symbols)
};

/// The syscall's name on x86-64 ("openat"), or "syscall_<nr>".
std::string syscall_name(int nr);

}  // namespace coldstart::trace
