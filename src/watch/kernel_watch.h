// The BPF half of the agent seen from user space: loads bpf/watch.bpf.c
// through its generated skeleton, decodes the ring buffer into KernelEvents,
// reads the loss counters and deletes the kernel state of finished starts.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "watch/phase_probes.h"
#include "watch/start_tracker.h"

struct watch_bpf;
struct ring_buffer;
struct bpf_link;

namespace coldstart::watch {

/// What the bounded kernel structures could not hold, as totals.
struct KernelLosses {
  uint64_t ring_buffer = 0;  ///< records dropped: ring buffer full
  uint64_t starts_map = 0;   ///< starts not followed: start map full
  uint64_t cgroup_map = 0;   ///< new cgroups not watched: fresh-cgroup map full
  uint64_t procs_map = 0;    ///< --match children not followed: process map full
};

/// KernelWatch owns the loaded and attached BPF program for the agent's
/// lifetime; the agent's loop calls drain() on its timer. Destroying it
/// detaches and unloads everything.
class KernelWatch {
 public:
  /// Loads and attaches. `match_mode`: every exec outside a start becomes a
  /// provisional start (for --match). Throws UserError, one line naming the
  /// step, errno and the capabilities needed, when BPF is not available.
  /// `max_phase_probes`: executables that get loader/main uprobes at once.
  /// `libc_probes`: uprobes on the host libc's listen() and mount() (AF_UNIX LISTEN, overlay mounts).
  /// `syscall_probes`: syscall tracepoints (AF_UNIX LISTEN and overlay mounts of any program).
  KernelWatch(bool match_mode, size_t max_phase_probes, bool libc_probes, bool syscall_probes);
  ~KernelWatch();
  KernelWatch(const KernelWatch&) = delete;
  KernelWatch& operator=(const KernelWatch&) = delete;

  /// Decodes every record in the ring buffer, in order, into `sink`.
  void drain(const std::function<void(const KernelEvent&)>& sink);
  /// Deletes the kernel state of start `key` (and the root's --match entry).
  void drop_start(uint64_t key, pid_t root);
  KernelLosses losses() const;
  /// Attaches the loader/main uprobes to a start's executable (see phase_probes.h).
  PhaseProbes probe_phases(const StartRecord& r, std::string& main_symbol);
  /// Attaches them to executable `path` before any start of it (--probe-exe), so that
  /// its first start is measured too. Throws UserError when none can be placed.
  void probe_phases_ahead(const std::string& path);
  const PhaseProbeSet& phase_probes() const { return *probes_; }
  /// The C library whose listen/mount carry uprobes ("" if none was found).
  const std::string& libc_path() const { return libc_path_; }

 private:
  static int on_record(void* ctx, void* data, size_t size);
  void attach_libc();
  void attach_syscalls();
  void release();  // detaches and unloads everything (idempotent)

  watch_bpf* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  const std::function<void(const KernelEvent&)>* sink_ = nullptr;
  std::unique_ptr<PhaseProbeSet> probes_;  // destroyed (detached) before the skeleton
  std::vector<bpf_link*> libc_links_;      // likewise
  std::vector<bpf_link*> syscall_links_;   // likewise
  std::string libc_path_;
};

}  // namespace coldstart::watch
