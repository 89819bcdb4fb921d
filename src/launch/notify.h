// The sd_notify protocol, server side: the datagram socket coldstart owns as a
// target's NOTIFY_SOCKET, and the one parser of its datagrams (fuzzed:
// fuzz/targets_launch.cmake). `run`'s supervisor keeps reading the same socket
// after READY=1 (WATCHDOG=1, STATUS=, MAINPID=, STOPPING=1, ...).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/unique_fd.h"

namespace coldstart::launch {

/// One datagram, parsed: every KEY=VALUE line, plus the keys systemd acts on.
struct NotifyMessage {
  std::vector<std::pair<std::string, std::string>> fields;  ///< in order, as sent
  bool ready = false;      ///< READY=1
  bool reloading = false;  ///< RELOADING=1
  bool stopping = false;   ///< STOPPING=1
  bool watchdog = false;   ///< WATCHDOG=1
  bool watchdog_trigger = false;  ///< WATCHDOG=trigger
  std::optional<std::string> status;           ///< STATUS=
  std::optional<pid_t> mainpid;                ///< MAINPID= (valid pid > 0)
  std::optional<int> errno_value;              ///< ERRNO= (>= 0)
  std::optional<uint64_t> extend_timeout_usec; ///< EXTEND_TIMEOUT_USEC=
  std::optional<uint64_t> watchdog_usec;       ///< WATCHDOG_USEC=
  std::vector<std::string> malformed;          ///< lines that are not KEY=VALUE or bad values
  /// Sender credentials (SCM_CREDENTIALS); -1 when the kernel gave none.
  pid_t sender_pid = -1;
  uid_t sender_uid = static_cast<uid_t>(-1);
  gid_t sender_gid = static_cast<gid_t>(-1);
  int64_t received_ns = 0;  ///< CLOCK_MONOTONIC when coldstart read it
  /// CLOCK_MONOTONIC when the sender's sendmsg() queued it on our socket (the
  /// kernel's SO_TIMESTAMPNS stamp, converted); equals received_ns when the
  /// kernel gave no stamp. This is the ready instant: it does not include
  /// the time our epoll waiter takes to wake up.
  int64_t sent_ns = 0;
};

/// Parses one datagram of newline-separated KEY=VALUE assignments. Never
/// throws on bad input: bad lines land in `malformed`.
NotifyMessage parse_notify_datagram(std::string_view bytes);

/// NotifySocket is an AF_UNIX datagram socket with SO_PASSCRED, created by the
/// launcher for one launch. It is bound to a path in a private directory (like
/// systemd's /run/systemd/notify) rather than an abstract name, because some
/// clients mangle abstract names; it removes both when destroyed. Like
/// systemd's, it is writable by every user (a service may drop privileges
/// before it notifies); senders are judged by their kernel credentials.
class NotifySocket {
 public:
  NotifySocket() = default;
  NotifySocket(NotifySocket&& other) noexcept;
  NotifySocket& operator=(NotifySocket&& other) noexcept;
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  ~NotifySocket();

  /// Creates and binds $TMPDIR/coldstart-notify-XXXXXX/notify. Throws UserError on failure.
  static NotifySocket create();

  /// The value for the target's NOTIFY_SOCKET.
  const std::string& address() const { return address_; }
  /// Non-blocking; readable (EPOLLIN) when a datagram is waiting.
  int fd() const { return fd_.get(); }
  /// Reads one pending datagram, or nullopt when none is waiting.
  std::optional<NotifyMessage> receive();

 private:
  void remove();
  UniqueFd fd_;
  std::string address_;
  std::string dir_;
};

}  // namespace coldstart::launch
