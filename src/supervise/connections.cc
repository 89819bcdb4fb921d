// Open-connection census for idle detection.
//
// Kernel facts relied on:
//  * A listening socket polls readable (POLLIN) exactly while its accept queue
//    is non-empty, so queued-but-not-accepted connections are seen without
//    accepting them.
//  * NETLINK_SOCK_DIAG with inet_diag_req_v2 {family, IPPROTO_TCP, states mask}
//    dumps every TCP socket of the network namespace in those states with its
//    local port (idiag_sport, network byte order). An accepted connection keeps
//    the listener's local port, so "ESTABLISHED with sport == listener's port"
//    counts the server side of every open connection, whichever process of the
//    service tree holds it. Client ends on this host have an ephemeral sport.
//  * unix_diag (sdiag_family AF_UNIX) with UDIAG_SHOW_NAME: the server-side
//    socket returned by accept() shares the listener's address, so ESTABLISHED
//    unix sockets named like a listener are its open connections.
// The census is a snapshot; the caller polls it (every few hundred ms) and
// calls a service idle after S seconds of zero.
#include "supervise/connections.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <set>
#include <string>

#include "core/error.h"
#include "launch/sock_diag.h"

namespace coldstart::supervise {
namespace {

using launch::sock_diag_dump;

size_t count_tcp(const std::set<uint16_t>& ports) {
  size_t count = 0;
  for (uint8_t family : {AF_INET, AF_INET6}) {
    inet_diag_req_v2 req{};
    req.sdiag_family = family;
    req.sdiag_protocol = IPPROTO_TCP;
    req.idiag_states = 1u << TCP_ESTABLISHED;
    sock_diag_dump(req, [&](const nlmsghdr* h) {
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) return;
      inet_diag_msg m;
      std::memcpy(&m, NLMSG_DATA(h), sizeof m);
      if (ports.count(ntohs(m.id.idiag_sport)) != 0) ++count;
    });
  }
  return count;
}

size_t count_unix(const std::set<std::string>& names) {
  size_t count = 0;
  unix_diag_req req{};
  req.sdiag_family = AF_UNIX;
  req.udiag_states = 1u << TCP_ESTABLISHED;
  req.udiag_show = UDIAG_SHOW_NAME;
  sock_diag_dump(req, [&](const nlmsghdr* h) {
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(unix_diag_msg))) return;
    const char* data = static_cast<const char*>(NLMSG_DATA(const_cast<nlmsghdr*>(h)));
    size_t total = h->nlmsg_len - NLMSG_LENGTH(0);
    size_t off = NLMSG_ALIGN(sizeof(unix_diag_msg));
    while (off + sizeof(rtattr) <= total) {
      rtattr attr;
      std::memcpy(&attr, data + off, sizeof attr);
      if (attr.rta_len < sizeof(rtattr) || off + attr.rta_len > total) break;
      if (attr.rta_type == UNIX_DIAG_NAME) {
        std::string name(data + off + RTA_LENGTH(0), attr.rta_len - RTA_LENGTH(0));
        if (!name.empty() && name[0] == '\0') name[0] = '@';
        if (auto nul = name.find('\0'); nul != std::string::npos && name[0] != '@') name.resize(nul);
        if (names.count(name) != 0) ++count;
      }
      off += RTA_ALIGN(attr.rta_len);
    }
  });
  return count;
}

}  // namespace

size_t count_open_connections(const std::vector<Listener>& listeners) {
  size_t count = 0;
  std::set<uint16_t> ports;
  std::set<std::string> unix_names;
  for (const auto& l : listeners) {
    pollfd p{l.fd(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0) ++count;  // accept queue not empty
    if (l.address().kind == ListenAddress::Kind::kTcp) ports.insert(l.bound_port());
    else unix_names.insert(l.address().path);
  }
  if (!ports.empty()) count += count_tcp(ports);
  if (!unix_names.empty()) count += count_unix(unix_names);
  return count;
}

}  // namespace coldstart::supervise
