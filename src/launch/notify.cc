// sd_notify datagrams and the socket that receives them.
//
// Protocol (sd_notify(3)): each datagram holds newline-separated KEY=VALUE
// assignments; systemd ignores unknown keys and bad lines. The receiving
// socket has SO_PASSCRED so every datagram carries SCM_CREDENTIALS (the
// kernel fills in the sender's pid/uid/gid even if the sender sends none),
// which is how NotifyAccess=main/all is enforced. Datagrams are at most a
// page here (systemd allows up to its NOTIFY_BUFFER_MAX, 4 KiB + some); we read
// up to 64 KiB and flag truncation.
//
// The socket also has SO_TIMESTAMPNS: for AF_UNIX datagrams the kernel stamps
// the message in the sender's sendmsg() (unix_dgram_sendmsg), so the instant a
// service said READY=1 is known exactly, however late our waiter wakes (a
// vCPU resuming from idle takes 0.1-0.3 ms here). The stamp is CLOCK_REALTIME;
// it is turned into CLOCK_MONOTONIC with the offset of the two clocks read
// back to back, and clamped to the receive instant in case the wall clock
// was stepped in between.
#include "launch/notify.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/clock.h"
#include "core/error.h"
#include "core/strings.h"

namespace coldstart::launch {
namespace {

template <typename T>
std::optional<T> parse_number(std::string_view v) {
  T out{};
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return out;
}

}  // namespace

NotifyMessage parse_notify_datagram(std::string_view bytes) {
  NotifyMessage m;
  for (const auto& raw : split(bytes, '\n')) {
    std::string_view line = raw;
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      m.malformed.emplace_back(line);
      continue;
    }
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    m.fields.emplace_back(std::string(key), std::string(value));
    bool ok = true;
    if (key == "READY") m.ready = value == "1";
    else if (key == "RELOADING") m.reloading = value == "1";
    else if (key == "STOPPING") m.stopping = value == "1";
    else if (key == "WATCHDOG") {
      m.watchdog = value == "1";
      m.watchdog_trigger = value == "trigger";
    } else if (key == "STATUS") m.status = std::string(value);
    else if (key == "MAINPID") {
      auto pid = parse_number<pid_t>(value);
      ok = pid && *pid > 0;
      if (ok) m.mainpid = *pid;
    } else if (key == "ERRNO") {
      auto e = parse_number<int>(value);
      ok = e && *e >= 0;
      if (ok) m.errno_value = *e;
    } else if (key == "EXTEND_TIMEOUT_USEC") {
      auto us = parse_number<uint64_t>(value);
      ok = us.has_value();
      if (ok) m.extend_timeout_usec = *us;
    } else if (key == "WATCHDOG_USEC") {
      auto us = parse_number<uint64_t>(value);
      ok = us && *us > 0;
      if (ok) m.watchdog_usec = *us;
    }
    if (!ok) m.malformed.emplace_back(line);
  }
  return m;
}

NotifySocket::NotifySocket(NotifySocket&& other) noexcept { *this = std::move(other); }

NotifySocket& NotifySocket::operator=(NotifySocket&& other) noexcept {
  if (this != &other) {
    remove();
    fd_ = std::move(other.fd_);
    address_ = std::exchange(other.address_, {});
    dir_ = std::exchange(other.dir_, {});
  }
  return *this;
}

NotifySocket::~NotifySocket() { remove(); }

void NotifySocket::remove() {
  fd_.reset();
  if (!dir_.empty()) {
    ::unlink(address_.c_str());
    ::rmdir(dir_.c_str());
    dir_.clear();
  }
}

NotifySocket NotifySocket::create() {
  NotifySocket s;
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp") + "/coldstart-notify-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw_sys("mkdtemp", tmpl);
  s.dir_ = tmpl;
  s.address_ = tmpl + "/notify";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (s.address_.size() >= sizeof addr.sun_path) throw UserError("notify socket path too long: " + s.address_);
  std::memcpy(addr.sun_path, s.address_.c_str(), s.address_.size() + 1);
  s.fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s.fd_) throw_sys("socket", "AF_UNIX datagram");
  int one = 1;
  if (::setsockopt(s.fd_.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0) throw_sys("setsockopt", "SO_PASSCRED");
  // Without timestamps the receive instant is used instead; not fatal.
  (void)::setsockopt(s.fd_.get(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  if (::bind(s.fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw_sys("bind", s.address_);
  // Like /run/systemd/notify, any user may send: a service that dropped its
  // privileges (User=, setpriv) still reaches us. Who sent a datagram is
  // judged by the kernel's SCM_CREDENTIALS, never by who could connect.
  if (::chmod(s.dir_.c_str(), 0755) != 0) throw_sys("chmod", s.dir_);
  if (::chmod(s.address_.c_str(), 0777) != 0) throw_sys("chmod", s.address_);
  return s;
}

std::optional<NotifyMessage> NotifySocket::receive() {
  static thread_local char buf[65536];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(timespec))];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return std::nullopt;
  NotifyMessage m = parse_notify_datagram(std::string_view(buf, static_cast<size_t>(n)));
  m.received_ns = monotonic_ns();
  m.sent_ns = m.received_ns;
  if (msg.msg_flags & MSG_TRUNC) m.malformed.emplace_back("(datagram truncated at 64 KiB)");
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
      ucred cred;
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      m.sender_pid = cred.pid;
      m.sender_uid = cred.uid;
      m.sender_gid = cred.gid;
    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
               c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
      timespec sent;
      std::memcpy(&sent, CMSG_DATA(c), sizeof sent);
      timespec real_now;
      ::clock_gettime(CLOCK_REALTIME, &real_now);
      const int64_t age_ns = (static_cast<int64_t>(real_now.tv_sec) - sent.tv_sec) * 1000000000 +
                             (real_now.tv_nsec - sent.tv_nsec);
      if (age_ns >= 0) m.sent_ns = m.received_ns - age_ns;
    }
  }
  return m;
}

}  // namespace coldstart::launch
