// Socket activation, the listening side.
//
// Algorithm: each --listen address becomes one socket bound and put in LISTEN
// state by coldstart before the service exists. From listen() on, the kernel
// completes TCP handshakes (and unix connects) on its own and queues them in
// the socket's accept queue (up to the backlog, SOMAXCONN = 4096 on Linux 5.4+),
// so a client connecting before the service runs is not refused: it simply
// waits until the service calls accept() on its dup of the same socket. Lazy
// start therefore only needs to learn that a connection is queued: epoll
// reports EPOLLIN on a listening socket when its accept queue is non-empty,
// and we never accept ourselves.
//
// The sockets are created blocking and without close-on-exec on the service's
// side, as systemd passes them (fdinfo flags 02: O_RDWR only); our own copies
// are close-on-exec so that only the launcher's dup2 to 3.. reaches a child.
#include "supervise/listeners.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"

namespace coldstart::supervise {
namespace {

uint16_t parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value > 65535)
    throw UserError(fmt::format("bad port '{}' in {}", text, whole));
  return static_cast<uint16_t>(value);
}

ListenAddress parse_tcp(std::string_view rest, std::string_view whole) {
  ListenAddress a;
  a.kind = ListenAddress::Kind::kTcp;
  if (rest.starts_with('[')) {
    auto close = rest.find("]:");
    if (close == std::string_view::npos) throw UserError(fmt::format("{}: expected [ADDR]:PORT", whole));
    a.host = std::string(rest.substr(1, close - 1));
    a.port = parse_port(rest.substr(close + 2), whole);
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    a.host = std::string(rest.substr(0, colon));
    a.port = parse_port(rest.substr(colon + 1), whole);
  } else {
    a.port = parse_port(rest, whole);
  }
  in6_addr v6{};
  in_addr v4{};
  if (!a.host.empty() && inet_pton(AF_INET, a.host.c_str(), &v4) != 1 &&
      inet_pton(AF_INET6, a.host.c_str(), &v6) != 1)
    throw UserError(fmt::format("{}: '{}' is not a numeric IP address", whole, a.host));
  return a;
}

// Fills a sockaddr for `a`; returns its length.
socklen_t make_sockaddr(const ListenAddress& a, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.kind == ListenAddress::Kind::kUnix) {
    auto* un = reinterpret_cast<sockaddr_un*>(&ss);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, a.path.data(), a.path.size());
    if (a.path[0] == '@') {
      un->sun_path[0] = '\0';  // abstract: the length, not a NUL, ends the name
      return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + a.path.size());
    }
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + a.path.size() + 1);
  }
  in_addr v4{};
  if (!a.host.empty() && inet_pton(AF_INET, a.host.c_str(), &v4) == 1) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a.port);
    sin->sin_addr = v4;
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(a.port);
  sin6->sin6_addr = in6addr_any;
  if (!a.host.empty()) inet_pton(AF_INET6, a.host.c_str(), &sin6->sin6_addr);
  return sizeof(sockaddr_in6);
}

}  // namespace

std::string ListenAddress::to_string() const {
  if (kind == Kind::kUnix) return "unix:" + path;
  if (host.find(':') != std::string::npos) return fmt::format("tcp:[{}]:{}", host, port);
  return host.empty() ? fmt::format("tcp:{}", port) : fmt::format("tcp:{}:{}", host, port);
}

ListenAddress parse_listen_address(std::string_view text) {
  if (text.starts_with("tcp:")) return parse_tcp(text.substr(4), text);
  if (text.starts_with("unix:")) {
    ListenAddress a;
    a.kind = ListenAddress::Kind::kUnix;
    a.path = std::string(text.substr(5));
    if (a.path.empty() || (a.path[0] != '/' && a.path[0] != '@' && a.path[0] != '.'))
      throw UserError(fmt::format("{}: expected unix:/PATH or unix:@NAME", text));
    if (a.path.size() >= sizeof(sockaddr_un::sun_path))
      throw UserError(fmt::format("{}: path longer than {} bytes", text, sizeof(sockaddr_un::sun_path) - 1));
    return a;
  }
  throw UserError(fmt::format("{}: expected tcp:HOST:PORT or unix:PATH", text));
}

Listener Listener::open(const ListenAddress& address, std::string name) {
  Listener l;
  l.address_ = address;
  l.name_ = std::move(name);
  sockaddr_storage ss;
  socklen_t len = make_sockaddr(address, ss);
  l.fd_ = UniqueFd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!l.fd_) throw_sys("socket", address.to_string());
  int one = 1;
  if (ss.ss_family != AF_UNIX) ::setsockopt(l.fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ss.ss_family == AF_UNIX && address.path[0] != '@') {
    struct stat st {};
    if (::lstat(address.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(address.path.c_str());
  }
  if (::bind(l.fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) throw_sys("bind", address.to_string());
  l.unlink_on_close_ = ss.ss_family == AF_UNIX && address.path[0] != '@';
  if (::listen(l.fd_.get(), SOMAXCONN) != 0) throw_sys("listen", address.to_string());
  if (ss.ss_family != AF_UNIX) {
    sockaddr_storage bound{};
    socklen_t blen = sizeof bound;
    ::getsockname(l.fd_.get(), reinterpret_cast<sockaddr*>(&bound), &blen);
    l.bound_port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                     : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  }
  return l;
}

Listener::~Listener() {
  if (fd_ && unlink_on_close_) ::unlink(address_.path.c_str());
}

std::vector<Listener> open_listeners(const std::vector<ListenAddress>& addresses,
                                     const std::vector<std::string>& names) {
  if (!names.empty() && names.size() != 1 && names.size() != addresses.size())
    throw UserError(fmt::format("{} socket names for {} listening sockets (give one, or one per socket)",
                                names.size(), addresses.size()));
  for (const auto& n : names) {
    if (n.empty() || n.size() > 255 || n.find(':') != std::string::npos)
      throw UserError(fmt::format("socket name '{}': must be 1-255 characters without ':'", n));
  }
  std::vector<Listener> out;
  for (size_t i = 0; i < addresses.size(); ++i) {
    std::string name = names.empty() ? "unknown" : names.size() == 1 ? names[0] : names[i];
    out.push_back(Listener::open(addresses[i], std::move(name)));
  }
  return out;
}

std::vector<launch::ListenFd> listen_fds(const std::vector<Listener>& listeners) {
  std::vector<launch::ListenFd> fds;
  for (const auto& l : listeners) fds.push_back({l.fd(), l.name()});
  return fds;
}

int wait_for_connection(const std::vector<Listener>& listeners, int extra_fd) {
  std::vector<pollfd> pfds;
  for (const auto& l : listeners) pfds.push_back({l.fd(), POLLIN, 0});
  if (extra_fd >= 0) pfds.push_back({extra_fd, POLLIN, 0});
  for (;;) {
    int n = ::poll(pfds.data(), pfds.size(), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_sys("poll", "listening sockets");
    }
    for (size_t i = 0; i < listeners.size(); ++i)
      if (pfds[i].revents != 0) return static_cast<int>(i);
    return -1;
  }
}

}  // namespace coldstart::supervise
