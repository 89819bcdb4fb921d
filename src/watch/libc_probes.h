// Where the agent's C-library uprobes go: listen(2) (AF_UNIX LISTEN, which
// has no tracepoint) and mount(2) (overlay mounts), in the host's libc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace coldstart::watch {

/// The file offsets of listen and mount in one C library, and a path that
/// opens it from the agent's mount namespace.
struct LibcProbePoints {
  std::string path;  ///< e.g. /proc/1/root/usr/lib/x86_64-linux-gnu/libc.so.6
  uint64_t listen = 0;
  uint64_t mount = 0;
};

/// The C library that process `pid` maps (its /proc/PID/maps line ending in
/// /libc.so.6, opened through /proc/PID/root), with listen and mount
/// looked up in its dynamic symbols. nullopt when it maps none (a static or
/// musl process) or the symbols are missing.
std::optional<LibcProbePoints> libc_probe_points(pid_t pid);

}  // namespace coldstart::watch
