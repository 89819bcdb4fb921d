// Finding the host's C library and its listen/mount entry points.
//
// The agent probes the libc of PID 1 (systemd on a host, the host's init
// under hostPID in a DaemonSet): the one host services and the container
// runtimes written in C call. /proc/1/root/<path> reaches that file from
// the agent's own mount namespace, so it works from a container too. The
// uprobe is registered on the file's inode: every process mapping that very
// file hits it; a container image's own libc is a different file and is
// not probed.
#include "watch/libc_probes.h"

#include <fstream>

#include "core/error.h"
#include "core/strings.h"
#include "elf/elf.h"

namespace coldstart::watch {

std::optional<LibcProbePoints> libc_probe_points(pid_t pid) {
  std::string proc = "/proc/" + std::to_string(pid);
  std::ifstream maps(proc + "/maps");
  std::string line, path;
  while (std::getline(maps, line)) {
    size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string p = line.substr(slash);
    if (ends_with(p, "/libc.so.6")) {
      path = p;
      break;
    }
  }
  if (path.empty()) return std::nullopt;
  LibcProbePoints points;
  points.path = proc + "/root" + path;
  try {
    auto listen = elf::find_symbol(points.path, "listen");
    auto mount = elf::find_symbol(points.path, "mount");
    if (!listen || !mount) return std::nullopt;
    points.listen = listen->file_offset;
    points.mount = mount->file_offset;
  } catch (const UserError&) {
    return std::nullopt;
  }
  return points;
}

}  // namespace coldstart::watch
