// Kernel facts relied on: an inet_diag dump (NETLINK_SOCK_DIAG, idiag_states =
// 1 << TCP_LISTEN) lists every listening TCP socket of this network namespace
// with its inode and local port (id.idiag_sport, network byte order); a
// dual-stack listener on [::] is an AF_INET6 entry that also accepts IPv4
// connections, so both families are dumped and matched by port. A process's
// sockets are its /proc/<pid>/fd links "socket:[inode]" (probes.cc).
//
// Matching by port alone over-accepts only when the tree listens on the same
// port of another local address than the one probed, while a foreign process
// answers on the probed one; the docs say so.
#include "launch/probe_owner.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/inet_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstring>

#include "core/error.h"
#include "launch/probes.h"
#include "launch/sock_diag.h"

namespace coldstart::launch {
namespace {

bool same_host(const sockaddr_storage& a, const sockaddr* b) {
  if (b == nullptr || a.ss_family != b->sa_family) return false;
  if (a.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(b)->sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr,
                       &reinterpret_cast<const sockaddr_in6*>(b)->sin6_addr, sizeof(in6_addr)) == 0;
  }
  return false;
}

}  // namespace

bool address_is_local(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    uint32_t ip = ntohl(reinterpret_cast<const sockaddr_in&>(addr).sin_addr.s_addr);
    if ((ip >> 24) == 127 || ip == 0) return true;
  } else if (addr.ss_family == AF_INET6) {
    const in6_addr& ip = reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&ip) || IN6_IS_ADDR_UNSPECIFIED(&ip)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&ip) && ip.s6_addr[12] == 127) return true;
  } else {
    return false;
  }
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool local = false;
  for (ifaddrs* i = list; i != nullptr && !local; i = i->ifa_next) local = same_host(addr, i->ifa_addr);
  ::freeifaddrs(list);
  return local;
}

std::set<uint64_t> tcp_listeners_on_port(uint16_t port) {
  std::set<uint64_t> out;
  for (int family : {AF_INET, AF_INET6}) {
    inet_diag_req_v2 req{};
    req.sdiag_family = static_cast<uint8_t>(family);
    req.sdiag_protocol = IPPROTO_TCP;
    req.idiag_states = 1U << TCP_LISTEN;
    try {
      sock_diag_dump(req, [&](const nlmsghdr* h) {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) return;
        inet_diag_msg d;
        std::memcpy(&d, NLMSG_DATA(h), sizeof d);
        if (ntohs(d.id.idiag_sport) == port) out.insert(d.idiag_inode);
      });
    } catch (const UserError&) {
      // No answer now: the probe says "not yet" and asks again.
    }
  }
  return out;
}

bool tree_listens_on_port(const std::vector<pid_t>& pids, uint16_t port) {
  std::set<uint64_t> listeners = tcp_listeners_on_port(port);
  if (listeners.empty()) return false;
  for (uint64_t inode : socket_inodes_of(pids)) {
    if (listeners.count(inode)) return true;
  }
  return false;
}

}  // namespace coldstart::launch
