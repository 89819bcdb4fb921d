// Listening sockets that coldstart owns on behalf of a supervised service
// (socket activation): parsing --listen addresses and binding them. The
// launcher passes them to the service with LISTEN_FDS, LISTEN_FDNAMES and
// LISTEN_PID (the child's own pid, completed in the child).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.h"
#include "launch/launcher.h"

namespace coldstart::supervise {

/// First fd number of passed sockets (SD_LISTEN_FDS_START).
inline constexpr int kListenFdsStart = 3;

/// A parsed --listen address: "tcp:HOST:PORT", "tcp:[V6]:PORT", "tcp:PORT",
/// "unix:PATH" or "unix:@ABSTRACT".
struct ListenAddress {
  enum class Kind { kTcp, kUnix };
  Kind kind = Kind::kTcp;
  std::string host;  // tcp: numeric IPv4/IPv6 address ("" = any, IPv6 dual-stack)
  uint16_t port = 0;
  std::string path;  // unix: filesystem path, or "@name" for the abstract namespace

  std::string to_string() const;
};

/// Parses a --listen value; throws UserError naming the text when malformed.
ListenAddress parse_listen_address(std::string_view text);

/// Listener owns one bound, listening socket created for a service. The
/// service gets a dup of it at fd 3+i; coldstart keeps its own copy so that
/// the kernel keeps queueing connections while the service is stopped.
class Listener {
 public:
  /// Binds and listens (backlog SOMAXCONN). A filesystem unix socket path that
  /// already exists as a socket is replaced, like systemd does. Throws UserError.
  static Listener open(const ListenAddress& address, std::string name);

  Listener(Listener&&) noexcept = default;
  Listener& operator=(Listener&&) noexcept = default;
  ~Listener();

  int fd() const { return fd_.get(); }
  const ListenAddress& address() const { return address_; }
  /// The LISTEN_FDNAMES entry.
  const std::string& name() const { return name_; }
  /// For tcp the port actually bound (useful with port 0).
  uint16_t bound_port() const { return bound_port_; }

 private:
  Listener() = default;
  UniqueFd fd_;
  ListenAddress address_;
  std::string name_;
  uint16_t bound_port_ = 0;
  bool unlink_on_close_ = false;
};

/// Opens every address; `names` holds --fdname values: none (each socket is
/// named "unknown", what sd_listen_fds_with_names reports for an unnamed fd),
/// one (used for all, as systemd-socket-activate does) or one per address.
/// Throws UserError on a count mismatch or a name systemd would refuse.
std::vector<Listener> open_listeners(const std::vector<ListenAddress>& addresses,
                                     const std::vector<std::string>& names);

/// The sockets in order, for the launcher to place at fds 3, 4, ... with
/// LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID (launch/launcher.h).
std::vector<launch::ListenFd> listen_fds(const std::vector<Listener>& listeners);

/// Blocks until one of the listeners has a connection queued (or `extra_fd`,
/// e.g. a signalfd, is readable). Never accepts: the connection stays queued
/// in the kernel for the service. Returns the index of the readable listener,
/// or -1 when `extra_fd` fired. Requires: at least one listener.
int wait_for_connection(const std::vector<Listener>& listeners, int extra_fd);

}  // namespace coldstart::supervise
