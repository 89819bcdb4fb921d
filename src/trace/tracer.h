// The tracer backends behind one interface. The command (cli/trace.cc) drives
// a launch through the shared launcher and calls the tracer at each step:
//   prepare(target)      before spawning: load and attach what needs no pid
//   follow_from_spawn(cgroup)
//                        the launch's v2 cgroup exists, the child does not yet:
//                        a backend that can follow the tree by its cgroup
//                        alone starts here, and the child is spawned unpaused
//   child_pre_exec()     in the forked child, just before execve
//   follow(pid, cgroup)  the child exists (paused before exec, unless followed
//                        from the spawn): start watching it
//   finish(...)          readiness seen (or the target ended): stop, detach,
//                        return the TraceLog
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "trace/event_model.h"

namespace coldstart::trace {

/// Where the phase boundaries of a program are: what the backends put their
/// uprobes (file offsets) or breakpoints (virtual addresses) on.
struct TraceTarget {
  std::string program;  // path of the executable the launch will exec
  uint64_t entry_vaddr = 0;
  std::optional<uint64_t> entry_offset;
  std::optional<uint64_t> main_vaddr;
  std::optional<uint64_t> main_offset;
  std::string main_symbol;  // "main.main" (Go) or "main"; empty when not found
  std::string main_source;  // where main_vaddr came from: "symtab", "pclntab" or "libc argument"
  // A glibc program whose main has no symbol: __libc_start_main in the libc
  // the loader maps, whose first argument (main) the backends read at run time.
  std::string libc_path;
  std::optional<uint64_t> libc_start_vaddr;
  std::optional<uint64_t> libc_start_offset;
  std::optional<uint64_t> libc_start_slot;  // _start's GOT slot of __libc_start_main (ptrace reads it)
  std::vector<std::string> notes;  // why a boundary cannot be placed (static, no symbols)
  bool pie = false;         // addresses are relative to the load base
  bool is_go = false;
  std::string go_version;  // "go1.19.8" from .go.buildinfo
  /// File offsets of the GC probe functions (go_gc.h's GcProbeSet, in its
  /// order: gcStart, stop the world, start the world, mark termination,
  /// limiter finish);
  /// empty when a function was not found or the version is not known.
  std::vector<uint64_t> gc_probe_offsets;
};

/// Reads the phase boundaries of `program` with the elf layer. Throws
/// UserError for a missing or non-ELF file.
TraceTarget describe_target(const std::string& program);

/// The backend cannot run here (no privilege, no kernel support); `what()` is
/// one line saying why, which `--backend auto` prints before falling back.
class BackendUnavailable : public std::runtime_error {
 public:
  explicit BackendUnavailable(const std::string& why) : std::runtime_error(why) {}
};

/// A Tracer watches one launch of one target and records a TraceLog. One
/// object per launch; the caller drives it in the order of the file comment.
class Tracer {
 public:
  virtual ~Tracer() = default;
  virtual std::string_view backend() const = 0;
  /// Throws BackendUnavailable when this backend cannot run here.
  virtual void prepare(const TraceTarget& target) = 0;
  /// The launch's v2 cgroup `cgroup_id` exists and its first task is about to
  /// be cloned into it. Returns true when this backend watches the tree
  /// from here on by that cgroup alone, so the child need not wait for
  /// follow() (the launcher then spawns it unpaused, t0 before clone3).
  virtual bool follow_from_spawn(uint64_t /*cgroup_id*/) { return false; }
  /// Runs in the forked child before execve; async-signal-safe only. Returns
  /// an errno value (0 on success) that the launcher reports as a spawn failure.
  virtual int child_pre_exec() noexcept { return 0; }
  /// `pid` is the paused child, not yet resumed (or, after follow_from_spawn
  /// returned true, the child that may have exec'd already); `cgroup_id` the v2 cgroup
  /// that holds its tree (the launcher's), or 0 when there is none.
  virtual void follow(pid_t pid, uint64_t cgroup_id) = 0;
  /// Stops tracing and detaches. `t0_ns` is the launch's start instant (the
  /// resume of the paused child, or right before clone3), `end_ns` the end of the window, `ready_ns`
  /// set when readiness was observed; `outcome` is "ready" or why not.
  virtual TraceLog finish(int64_t t0_ns, int64_t end_ns, std::optional<int64_t> ready_ns,
                          const std::string& outcome) = 0;
};

/// Compares the main the backend saw passed to __libc_start_main (made
/// load-base relative) with the one the main probe was placed at, and notes
/// a disagreement (the main boundary is then not trusted: dropped).
void check_libc_argument(const TraceTarget& target, TraceLog& log);

/// How much a backend records. bpf, kSummary: syscalls counted in the
/// kernel, records only for what the output lists one by one; kFull: one
/// record per syscall too (the Chrome trace's syscall slices). ptrace,
/// kSummary: no stops on file reads; kFull: stops on them too (bytes read,
/// read waits).
enum class Detail { kSummary, kFull };

std::unique_ptr<Tracer> make_bpf_tracer(Detail detail = Detail::kSummary);
std::unique_ptr<Tracer> make_ptrace_tracer(Detail detail = Detail::kSummary);

}  // namespace coldstart::trace
