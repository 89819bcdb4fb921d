// Counting a service's open client connections, for --idle-stop.
#pragma once

#include <cstddef>
#include <vector>

#include "supervise/listeners.h"

namespace coldstart::supervise {

/// Connections of clients to the listeners that are still open: queued in an
/// accept queue or accepted and ESTABLISHED (TCP via NETLINK_SOCK_DIAG
/// inet_diag; unix via unix_diag, whose accepted sockets carry the listener's
/// name). A service with none is idle. Throws UserError only if netlink is
/// unusable.
size_t count_open_connections(const std::vector<Listener>& listeners);

}  // namespace coldstart::supervise
