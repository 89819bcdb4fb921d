// `coldstart watch` as a library call: the node agent's loop. The CLI parses
// options and prints; everything else happens here.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "watch/kernel_watch.h"
#include "watch/start_tracker.h"

namespace coldstart::watch {

struct WatchOptions {
  std::string listen = "127.0.0.1:9477";  ///< "none": no /metrics endpoint
  std::vector<std::string> match;          ///< --match REGEX (PCRE2), on exe path and command line
  std::optional<uint64_t> count;           ///< stop after this many start records
  std::optional<double> duration_s;        ///< stop after this long
  double start_timeout_s = 300;            ///< a start not served by then is recorded as "timeout"
  size_t max_label_sets = 500;
  int drain_interval_ms = 10;
  size_t max_phase_probes = 64;  ///< executables with loader/main uprobes at once (0: none)
  /// Uprobes on the host libc's listen() and mount(): AF_UNIX LISTEN and overlay mounts. Off by
  /// default: every process that maps that libc then gets its probed text pages copied at mmap.
  bool libc_probes = false;
  /// Syscall tracepoints (listen, mount, fsopen, fsconfig): AF_UNIX LISTEN and overlay mounts of
  /// any program (Go, raw syscalls, the new mount API, a container's libc). Off by default: every
  /// syscall of the node then takes the tracepoint path.
  bool syscall_probes = false;
  /// --probe-exe: executables whose loader/main uprobes are placed at start-up, before their first start.
  std::vector<std::string> probe_exes;
};

struct WatchSummary {
  uint64_t starts = 0;   ///< starts seen
  uint64_t records = 0;  ///< start records handed to on_record
  uint64_t failed = 0;
  KernelLosses losses;
  std::string endpoint;  ///< the /metrics URL, "" without one
};

/// Loads the BPF program, serves /metrics and follows starts until --count
/// records were made, --duration passed, or SIGINT/SIGTERM/SIGHUP arrived.
/// `on_attached(endpoint)` runs once the kernel side is attached and the
/// endpoint listens (from then on every start is seen); `on_record` runs for
/// every finished start, in the loop's thread. At the end, starts still open
/// are recorded with outcome "open", unless --count was what stopped it.
/// Throws UserError (BPF unavailable, address in use, bad pattern).
WatchSummary run_watch(const WatchOptions& options, const std::function<void(const std::string&)>& on_attached,
                       const std::function<void(const StartRecord&)>& on_record);

/// The unified-hierarchy cgroup path of `pid` (its /proc/PID/cgroup "0::" line), "" if gone.
std::string cgroup_of_pid(pid_t pid);

}  // namespace coldstart::watch
