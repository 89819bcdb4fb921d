// Whose socket answered a tcp:/http: readiness probe. A connect that succeeds
// proves only that *some* process listens on HOST:PORT: with the port already
// held by another process, the launched server fails to bind while the probe
// reports it ready in microseconds (issue 16). On this host the answer is
// checked: the listening socket's inode must be one of the launched tree's
// sockets, as the listen probe checks. A remote HOST cannot be checked (its
// sockets are not ours to see); there only the "answers before the start"
// test applies.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <set>
#include <vector>

namespace coldstart::launch {

/// True when `addr` is a loopback address or an address of one of this
/// host's interfaces (getifaddrs), so its listeners are in our sock_diag dumps.
bool address_is_local(const sockaddr_storage& addr);

/// The inodes of the TCP sockets (v4 and v6) in LISTEN state on local port
/// `port`, from inet_diag dumps filtered by state.
std::set<uint64_t> tcp_listeners_on_port(uint16_t port);

/// True when one of the listeners on `port` is a socket of `pids`.
bool tree_listens_on_port(const std::vector<pid_t>& pids, uint16_t port);

}  // namespace coldstart::launch
