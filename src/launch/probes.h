// The polled readiness probes: tcp:HOST:PORT, listen, http:URL. (exit and
// notify are events on fds, handled by the launcher's epoll loop; log: reads
// the captured output.)
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/unique_fd.h"
#include "launch/ready_spec.h"

namespace coldstart::launch {

/// One socket fd of a process of the tree.
struct TreeSocket {
  pid_t pid = 0;
  int fd = -1;
  uint64_t inode = 0;
};

/// PolledProbe answers "is it ready now?" for one polled SPEC; the launcher
/// calls check() with a back-off between calls.
class PolledProbe {
 public:
  /// Resolves the host of tcp:/http: once. Throws UserError if it cannot.
  explicit PolledProbe(const ReadySpec& spec);

  /// One attempt. `tree` returns the pids of the target's tree (listen).
  /// Waits at most `max_wait` for a network answer.
  /// For tcp:/http: on a local address, an answer counts only if the
  /// listening socket belongs to `tree` (probe_owner.h).
  /// Returns the ready instant (CLOCK_MONOTONIC ns), or nothing if not ready:
  /// for tcp:/http: when the answer came, before the owner check (a /proc
  /// scan of ~250 µs that would otherwise land in every figure).
  std::optional<int64_t> check(const std::function<std::vector<pid_t>()>& tree, Duration max_wait);

  /// tcp:/http: before the spawn: does anything answer on HOST:PORT already?
  /// (Then another process holds it and a connect proves nothing.)
  bool answers_already(Duration max_wait) const;

 private:
  bool tcp_connects(Duration max_wait) const;
  bool http_ok(Duration max_wait) const;
  bool tree_listens(const std::vector<pid_t>& pids);
  int accepts_connections(const TreeSocket& t);
  ReadySpec spec_;
  std::map<pid_t, UniqueFd> pidfds_;  // listen: one pidfd per process of the tree, opened once
  bool dump_only_ = false;            // listen: pidfd_getfd refused, use sock_diag dumps
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  bool local_ = false;  // HOST is this host: the answering socket's owner can be checked
};

/// The inodes of all sockets in LISTEN state on this host: TCP (v4 and v6)
/// from an inet_diag dump, AF_UNIX stream/seqpacket from a unix_diag dump
/// (NETLINK_SOCK_DIAG both).
std::set<uint64_t> listening_socket_inodes();

/// The socket inodes the given processes hold open (/proc/<pid>/fd links
/// "socket:[N]").
std::set<uint64_t> socket_inodes_of(const std::vector<pid_t>& pids);

/// The socket fds the given processes hold, with their inodes.
std::vector<TreeSocket> sockets_of(const std::vector<pid_t>& pids);

}  // namespace coldstart::launch
