// Polled probes.
//
//  * tcp: a non-blocking connect(2); on loopback the answer (connected or
//    ECONNREFUSED) is immediate, elsewhere we wait for it with poll(2) up to
//    the caller's bound. A connection is closed at once (the target sees one
//    short connection per successful probe, like a load balancer's check).
//  * http: the same connect, then "GET PATH HTTP/1.0" and the status line;
//    2xx is ready.
//  * listen: the tree's own sockets are the "socket:[inode]" links in
//    /proc/<pid>/fd; a socket listens when SO_ACCEPTCONN says so (TCP v4/v6
//    and AF_UNIX stream/seqpacket alike), whatever the port, which is why it
//    needs no configuration. To ask, the probe takes a copy of the target's
//    fd with pidfd_getfd(2) (Linux 5.6; ptrace-attach rights: root, or the
//    same user) and closes it at once: a few µs per socket, nothing asked of
//    the target. A full sock_diag dump per poll (~100 µs here, three
//    NETLINK_SOCK_DIAG dumps) made `listen` ~0.2 ms later than `tcp` on the
//    same fixture. Without pidfd_getfd (EPERM, ENOSYS) the probe falls back to
//    that dump: inet_diag_req_v2 filtered to TCPF_LISTEN for AF_INET and
//    AF_INET6 and a unix_diag_req dump, matched by inode.
#include "launch/probes.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/error.h"
#include "core/unique_fd.h"
#include "launch/probe_owner.h"
#include "launch/sock_diag.h"

namespace coldstart::launch {
namespace {

// poll(2)'s milliseconds, rounded up.
int to_ms(Duration d) {
  if (d.count() <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count(), 1 << 30)) + 1;
}

// Connects without blocking longer than max_wait; an fd on success.
UniqueFd connect_within(const sockaddr_storage& addr, socklen_t len, Duration max_wait) {
  UniqueFd fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return {};
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0) return fd;
  if (errno != EINPROGRESS) return {};
  pollfd p{fd.get(), POLLOUT, 0};
  if (::poll(&p, 1, to_ms(max_wait)) != 1) return {};
  int err = 0;
  socklen_t el = sizeof err;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) return {};
  return fd;
}

// Adds the inode of every socket a sock_diag dump answers with: `Msg` is the
// answer's header (inet_diag_msg, unix_diag_msg), `inode` its inode field.
template <typename Msg, typename Req, typename Inode>
void collect_inodes(const Req& req, Inode Msg::*inode, std::set<uint64_t>& out) {
  sock_diag_dump(req, [&](const nlmsghdr* h) {
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(Msg))) return;
    Msg d;
    std::memcpy(&d, NLMSG_DATA(h), sizeof d);
    out.insert(d.*inode);
  });
}

void dump_listening(int family, std::set<uint64_t>& out) {
  inet_diag_req_v2 req{};
  req.sdiag_family = static_cast<uint8_t>(family);
  req.sdiag_protocol = IPPROTO_TCP;
  req.idiag_states = 1U << TCP_LISTEN;
  collect_inodes(req, &inet_diag_msg::idiag_inode, out);
}

void dump_listening_unix(std::set<uint64_t>& out) {
  unix_diag_req req{};
  req.sdiag_family = AF_UNIX;
  req.udiag_states = 1U << TCP_LISTEN;
  collect_inodes(req, &unix_diag_msg::udiag_ino, out);
}

}  // namespace

std::set<uint64_t> listening_socket_inodes() {
  std::set<uint64_t> out;
  try {
    dump_listening(AF_INET, out);
    dump_listening(AF_INET6, out);
    dump_listening_unix(out);
  } catch (const UserError&) {
    // A probe answers "not yet"; a dump that fails now may work at the next poll.
  }
  return out;
}

std::set<uint64_t> socket_inodes_of(const std::vector<pid_t>& pids) {
  std::set<uint64_t> out;
  for (const TreeSocket& t : sockets_of(pids)) out.insert(t.inode);
  return out;
}

std::vector<TreeSocket> sockets_of(const std::vector<pid_t>& pids) {
  std::vector<TreeSocket> out;
  for (pid_t pid : pids) {
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) continue;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      char link[64];
      ssize_t n = ::readlinkat(::dirfd(d), e->d_name, link, sizeof link - 1);
      if (n < 9 || std::memcmp(link, "socket:[", 8) != 0) continue;
      uint64_t inode = 0;
      std::from_chars(link + 8, link + n - 1, inode);
      int fd = -1;
      std::from_chars(e->d_name, e->d_name + std::strlen(e->d_name), fd);
      out.push_back({pid, fd, inode});
    }
    ::closedir(d);
  }
  return out;
}

PolledProbe::PolledProbe(const ReadySpec& spec) : spec_(spec) {
  if (spec.kind != ProbeKind::kTcp && spec.kind != ProbeKind::kHttp) return;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(spec.port);
  int rc = ::getaddrinfo(spec.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    throw UserError("cannot resolve '" + spec.host + "' in " + spec.text + ": " + ::gai_strerror(rc));
  }
  std::memcpy(&addr_, res->ai_addr, res->ai_addrlen);
  addr_len_ = res->ai_addrlen;
  ::freeaddrinfo(res);
  local_ = address_is_local(addr_);
}

bool PolledProbe::answers_already(Duration max_wait) const {
  if (spec_.kind != ProbeKind::kTcp && spec_.kind != ProbeKind::kHttp) return false;
  if (!tcp_connects(max_wait)) return false;
  // A socket we pass to the target (run --listen) answers before it starts, and is its own.
  return !(local_ && tree_listens_on_port({::getpid()}, spec_.port));
}

bool PolledProbe::tcp_connects(Duration max_wait) const {
  return connect_within(addr_, addr_len_, max_wait).valid();
}

bool PolledProbe::http_ok(Duration max_wait) const {
  UniqueFd fd = connect_within(addr_, addr_len_, max_wait);
  if (!fd) return false;
  std::string req = "GET " + spec_.http_path + " HTTP/1.0\r\nHost: " + spec_.host + "\r\nUser-Agent: coldstart\r\n" +
                    "Connection: close\r\n\r\n";
  pollfd p{fd.get(), POLLOUT, 0};
  if (::poll(&p, 1, to_ms(max_wait)) != 1) return false;
  if (::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return false;
  // "HTTP/1.x 200 ..." : the status code starts at byte 9.
  char buf[64];
  size_t got = 0;
  while (got < 12) {
    p = {fd.get(), POLLIN, 0};
    if (::poll(&p, 1, to_ms(max_wait)) != 1) return false;
    ssize_t n = ::recv(fd.get(), buf + got, sizeof buf - got, 0);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return std::memcmp(buf, "HTTP/1.", 7) == 0 && buf[9] == '2';
}

std::optional<int64_t> PolledProbe::check(const std::function<std::vector<pid_t>()>& tree, Duration max_wait) {
  switch (spec_.kind) {
    case ProbeKind::kTcp:
    case ProbeKind::kHttp: {
      bool answered = spec_.kind == ProbeKind::kTcp ? tcp_connects(max_wait) : http_ok(max_wait);
      if (!answered) return std::nullopt;
      const int64_t at = monotonic_ns();
      // A foreign process that took the port after our check must not make a failed start look ready.
      if (local_ && !tree_listens_on_port(tree(), spec_.port)) return std::nullopt;
      return at;
    }
    case ProbeKind::kListen:
      if (tree_listens(tree())) return monotonic_ns();
      return std::nullopt;
    default: return std::nullopt;
  }
}

// 1 listening, 0 not, -1 cannot tell (no pidfd_getfd here, or not allowed).
int PolledProbe::accepts_connections(const TreeSocket& t) {
  auto it = pidfds_.find(t.pid);
  if (it == pidfds_.end()) {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, t.pid, 0)));
    if (!pidfd) return -1;
    it = pidfds_.emplace(t.pid, std::move(pidfd)).first;
  }
  UniqueFd copy(static_cast<int>(::syscall(SYS_pidfd_getfd, it->second.get(), t.fd, 0)));
  if (!copy) {
    const int err = errno;
    if (err == ESRCH) pidfds_.erase(it);  // exited: a new process may reuse the pid
    return err == EBADF || err == ESRCH ? 0 : -1;  // closed or gone meanwhile
  }
  int on = 0;
  socklen_t len = sizeof on;
  if (::getsockopt(copy.get(), SOL_SOCKET, SO_ACCEPTCONN, &on, &len) != 0) return 0;
  return on != 0 ? 1 : 0;
}

bool PolledProbe::tree_listens(const std::vector<pid_t>& pids) {
  std::vector<TreeSocket> mine = sockets_of(pids);
  if (mine.empty()) return false;
  if (!dump_only_) {
    bool unknown = false;
    for (const TreeSocket& t : mine) {
      int r = accepts_connections(t);
      if (r == 1) return true;
      if (r < 0) unknown = true;
    }
    if (!unknown) return false;
    dump_only_ = true;  // pidfd_getfd is refused here: from now on, dumps
  }
  std::set<uint64_t> listening = listening_socket_inodes();
  for (const TreeSocket& t : mine) {
    if (listening.count(t.inode)) return true;
  }
  return false;
}

}  // namespace coldstart::launch
