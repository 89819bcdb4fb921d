// Header-only sd_notify and listen_fds for C++ services, without libsystemd.
//
// Protocols (systemd's sd_notify(3) and sd_listen_fds(3)):
//  * NOTIFY_SOCKET names an AF_UNIX datagram socket: a filesystem path, or an
//    abstract name when it starts with '@'. Each notification is one datagram of
//    newline-separated KEY=VALUE assignments, e.g. "READY=1\nSTATUS=serving".
//  * Socket activation passes listening sockets as fds 3..3+LISTEN_FDS-1, valid
//    only when LISTEN_PID equals our pid; LISTEN_FDNAMES holds ':'-separated names.
//    The variables are unset afterwards (unset_environment) so children do not
//    inherit them, and the fds are made close-on-exec.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace coldstart::sd {

inline constexpr int kListenFdsStart = 3;

/// Sends `state` to $NOTIFY_SOCKET. Returns 1 if sent, 0 if NOTIFY_SOCKET is
/// unset, or -errno on failure (like sd_notify).
inline int notify(std::string_view state, bool unset_environment = false) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr || env[0] == '\0') return 0;
  std::string path(env);
  if (unset_environment) ::unsetenv("NOTIFY_SOCKET");
  if (path[0] != '/' && path[0] != '@') return -EAFNOSUPPORT;

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return -EINVAL;
  std::memcpy(addr.sun_path, path.data(), path.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace: no trailing NUL
  else len += 1;

  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr*>(&addr), len);
  int err = errno;
  ::close(fd);
  if (n < 0) return -err;
  return 1;
}

/// Number of sockets passed by socket activation (fds start at 3), 0 if none
/// or not meant for this process, -errno on malformed variables.
inline int listen_fds(bool unset_environment = true) {
  const char* pid_s = std::getenv("LISTEN_PID");
  const char* fds_s = std::getenv("LISTEN_FDS");
  int result = 0;
  if (pid_s != nullptr && fds_s != nullptr) {
    char* end = nullptr;
    errno = 0;
    long pid = std::strtol(pid_s, &end, 10);
    if (errno != 0 || end == pid_s || *end != '\0' || pid <= 0) {
      result = -EINVAL;
    } else if (pid == ::getpid()) {
      errno = 0;
      long n = std::strtol(fds_s, &end, 10);
      if (errno != 0 || end == fds_s || *end != '\0' || n < 0 || n > 4096) {
        result = -EINVAL;
      } else {
        for (int fd = kListenFdsStart; fd < kListenFdsStart + n; ++fd) {
          int flags = ::fcntl(fd, F_GETFD);
          if (flags < 0) {
            result = -errno;
            break;
          }
          ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        }
        if (result == 0) result = static_cast<int>(n);
      }
    }
  }
  if (unset_environment) {
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
  }
  return result;
}

}  // namespace coldstart::sd
