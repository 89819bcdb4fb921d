// /proc/<pid>/maps lines are "start-end perms offset dev inode path"; a
// file-backed mapping has a non-zero inode and an absolute path (possibly
// with " (deleted)"). /proc/<pid>/exe names the executable. A script's
// interpreter is what its tree maps, which is why a script counts as a
// wrapper: its own file is read, not mapped.
#include "launch/tree_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string_view>

#include "core/file.h"
#include "core/strings.h"

namespace coldstart::launch {

std::vector<std::string> mapped_files_of(const std::vector<pid_t>& pids) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](std::string path) {
    if (!path.starts_with('/') || path.ends_with(" (deleted)")) return;
    if (seen.insert(path).second) out.push_back(std::move(path));
  };
  for (pid_t pid : pids) {
    char exe[4096];
    std::string proc = "/proc/" + std::to_string(pid);
    ssize_t n = ::readlink((proc + "/exe").c_str(), exe, sizeof exe - 1);
    if (n > 0) add(std::string(exe, static_cast<size_t>(n)));
  }
  for (pid_t pid : pids) {
    auto maps = read_text_file("/proc/" + std::to_string(pid) + "/maps");
    if (!maps) continue;
    for (const auto& line : split(*maps, '\n')) {
      size_t slash = line.find('/');
      if (slash == std::string::npos) continue;
      add(std::string(line.substr(slash)));
    }
  }
  return out;
}

bool is_exec_wrapper(const std::string& program) {
  static const char* kWrappers[] = {"setpriv", "env",   "nice",  "taskset", "ionice",  "chrt",   "stdbuf",
                                    "timeout", "runuser", "sudo", "su",     "setsid",  "numactl", "prlimit"};
  std::string_view base = program;
  if (size_t slash = base.rfind('/'); slash != std::string_view::npos) base.remove_prefix(slash + 1);
  if (std::any_of(std::begin(kWrappers), std::end(kWrappers), [&](const char* w) { return base == w; })) return true;
  int fd = ::open(program.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  char head[2] = {};
  bool script = ::read(fd, head, 2) == 2 && head[0] == '#' && head[1] == '!';
  ::close(fd);
  return script;
}

}  // namespace coldstart::launch
