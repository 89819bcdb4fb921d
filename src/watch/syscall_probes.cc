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

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/unique_fd.h"

namespace coldstart::watch {
namespace {

std::optional<uint64_t> read_id(const std::string& path) {
  std::ifstream in(path);
  uint64_t id = 0;
  if (in >> id) return id;
  return std::nullopt;
}

/// Tracefs mounted somewhere already (its own mount, or under debugfs).
std::optional<uint64_t> from_mounted(const std::string& event) {
  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream f(line);
    std::string source, target, type;
    f >> source >> target >> type;
    std::string events;
    if (type == "tracefs") events = target + "/events";
    else if (type == "debugfs") events = target + "/tracing/events";
    else continue;
    if (auto id = read_id(events + "/syscalls/" + event + "/id")) return id;
  }
  return std::nullopt;
}

}  // namespace

Result<uint64_t> syscall_tracepoint_id(const std::string& event) {
  if (auto id = from_mounted(event)) return *id;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return unexpected(std::string("pipe: ") + std::strerror(errno));
  UniqueFd rd(p[0]), wr(p[1]);
  std::string path = "/sys/kernel/tracing/events/syscalls/" + event + "/id";
  pid_t pid = ::fork();
  if (pid < 0) return unexpected(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: the id's text, or 'E' and the errno as one byte.
    auto fail = [&](int err) {
      char b[2] = {'E', static_cast<char>(err & 0x7f)};
      (void)!::write(wr.get(), b, 2);
      _exit(1);
    };
    if (::unshare(CLONE_NEWNS) != 0) fail(errno);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail(errno);
    if (::mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      fail(errno);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(errno);
    char buf[32];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) fail(EIO);
    (void)!::write(wr.get(), buf, static_cast<size_t>(n));
    _exit(0);
  }
  wr = UniqueFd();
  char buf[32];
  ssize_t n = 0, got;
  while ((got = ::read(rd.get(), buf + n, sizeof buf - 1 - static_cast<size_t>(n))) > 0) n += got;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n == 2 && buf[0] == 'E')
    return unexpected("tracefs: " + std::string(std::strerror(buf[1])) +
                      " (no tracefs mounted; mounting one needs CAP_SYS_ADMIN)");
  if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return unexpected("tracefs: no id for " + event);
  buf[n] = 0;
  return static_cast<uint64_t>(std::strtoull(buf, nullptr, 10));
}

}  // namespace coldstart::watch
