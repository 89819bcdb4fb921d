// Finding a syscall tracepoint's id without leaving anything mounted.
//
// perf_event_open(PERF_TYPE_TRACEPOINT) takes the event's numeric id, which
// only tracefs publishes (events/syscalls/<event>/id). Many hosts do not
// mount tracefs (this one does not), and mounting it for the agent would
// change the host's mount table. So, when no tracefs is mounted, a child
// forked for the purpose unshares its mount namespace, makes every mount
// private, mounts tracefs on /sys/kernel/tracing there, reads the id and
// writes it to a pipe; its namespace, and the mount, end with it. Only
// async-signal-safe system calls run in the child (the agent has threads).
#include "watch/syscall_probes.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "core/unique_fd.h"

namespace coldstart::watch {
namespace {

std::optional<uint64_t> read_id(const std::string& path) {
  std::ifstream in(path);
  uint64_t id = 0;
  if (in >> id) return id;
  return std::nullopt;
}

/// The ids from a tracefs mounted somewhere already (its own mount, or under
/// debugfs) that has every one of `events`.
std::optional<std::vector<uint64_t>> from_mounted(const std::vector<std::string>& events) {
  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream f(line);
    std::string source, target, type;
    f >> source >> target >> type;
    std::string dir;
    if (type == "tracefs") dir = target + "/events";
    else if (type == "debugfs") dir = target + "/tracing/events";
    else continue;
    std::vector<uint64_t> ids;
    for (const std::string& e : events)
      if (std::optional<uint64_t> id = read_id(dir + "/syscalls/" + e + "/id")) ids.push_back(*id);
    if (ids.size() == events.size()) return ids;
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<uint64_t>> syscall_tracepoint_ids(const std::vector<std::string>& events) {
  if (std::optional<std::vector<uint64_t>> ids = from_mounted(events)) return *ids;
  std::vector<std::string> paths;  // built before the fork: the child only makes system calls
  for (const std::string& e : events) paths.push_back("/sys/kernel/tracing/events/syscalls/" + e + "/id");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return unexpected(std::string("pipe: ") + std::strerror(errno));
  UniqueFd rd(p[0]), wr(p[1]);
  pid_t pid = ::fork();
  if (pid < 0) return unexpected(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: each id's text (each ends in a newline), or 'E' and the errno as one byte.
    auto fail = [&](int err) {
      char b[2] = {'E', static_cast<char>(err & 0x7f)};
      (void)!::write(wr.get(), b, 2);
      _exit(1);
    };
    if (::unshare(CLONE_NEWNS) != 0) fail(errno);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail(errno);
    if (::mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      fail(errno);
    for (const std::string& path : paths) {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) fail(errno);
      char buf[32];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0 || buf[n - 1] != '\n') fail(EIO);
      (void)!::write(wr.get(), buf, static_cast<size_t>(n));
      ::close(fd);
    }
    _exit(0);
  }
  wr = UniqueFd();
  std::string text;
  char buf[256];
  for (ssize_t got; (got = ::read(rd.get(), buf, sizeof buf)) > 0 || (got < 0 && errno == EINTR);)
    if (got > 0) text.append(buf, static_cast<size_t>(got));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (text.size() == 2 && text[0] == 'E')
    return unexpected("tracefs: " + std::string(std::strerror(text[1])) +
                      " (no tracefs mounted; mounting one needs CAP_SYS_ADMIN)");
  std::vector<uint64_t> ids;
  std::istringstream in(text);
  for (uint64_t id; ids.size() < events.size() && in >> id;) ids.push_back(id);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || ids.size() != events.size())
    return unexpected("tracefs: no id for " + events[std::min(ids.size(), events.size() - 1)]);
  return ids;
}

}  // namespace coldstart::watch
