// NETLINK_SOCK_DIAG dumps: the one place that talks to the kernel's socket
// diagnostics. The listen probe (launch/probes.cc) and the supervisor's idle
// detection (supervise/connections.cc) both build on it.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <functional>

namespace coldstart::launch {

/// Sends one SOCK_DIAG_BY_FAMILY dump request whose body is `req` (an
/// inet_diag_req_v2 or unix_diag_req) and calls `on_msg` for every answer
/// until NLMSG_DONE. Throws UserError naming the call on a netlink failure or
/// an NLMSG_ERROR answer.
void sock_diag_dump(const void* req, size_t req_len, const std::function<void(const nlmsghdr*)>& on_msg);

template <typename Req>
void sock_diag_dump(const Req& req, const std::function<void(const nlmsghdr*)>& on_msg) {
  sock_diag_dump(&req, sizeof req, on_msg);
}

}  // namespace coldstart::launch
