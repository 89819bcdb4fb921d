// taskstats over generic netlink (Documentation/accounting/taskstats.rst).
//
//  1. Resolve the "TASKSTATS" family id (CTRL_CMD_GETFAMILY).
//  2. TASKSTATS_CMD_GET with TASKSTATS_CMD_ATTR_REGISTER_CPUMASK "0-N": the
//     kernel then sends a TASKSTATS_CMD_NEW message for every task exiting on
//     those CPUs, nested TASKSTATS_TYPE_AGGR_PID { PID, STATS }. The command
//     is GENL_ADMIN_PERM (CAP_NET_ADMIN).
//  3. do_exit() calls taskstats_exit() before exit_mm(), so struct taskstats'
//     hiwater_rss (KiB) is the exiting task's mm high-water mark: the
//     program's own, after its exec.
// Records of unrelated tasks are dropped; a task belongs to the tree when its
// tgid is the root or its parent's tgid already belongs (children exit before
// the parent that reaps them, so the chain is known in time; a child
// reparented after its parent died is missed, and then its peak is not in the
// figure). A full socket buffer (ENOBUFS) loses records: peak_rss_bytes() is
// then nullopt rather than a figure that may miss the largest process.
#include "launch/exit_stats.h"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace coldstart::launch {
namespace {

constexpr size_t kBuf = 65536;

// Appends one netlink attribute to `msg`.
void put_attr(std::vector<char>& msg, uint16_t type, const void* data, size_t len) {
  nlattr a{};
  a.nla_type = type;
  a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
  size_t at = msg.size();
  msg.resize(at + NLA_ALIGN(a.nla_len));
  std::memcpy(msg.data() + at, &a, sizeof a);
  std::memcpy(msg.data() + at + NLA_HDRLEN, data, len);
}

std::vector<char> genl_message(uint16_t family, uint8_t cmd, uint8_t version, uint16_t flags) {
  std::vector<char> msg(NLMSG_HDRLEN + GENL_HDRLEN);
  nlmsghdr h{};
  h.nlmsg_type = family;
  h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  genlmsghdr g{};
  g.cmd = cmd;
  g.version = version;
  std::memcpy(msg.data(), &h, sizeof h);
  std::memcpy(msg.data() + NLMSG_HDRLEN, &g, sizeof g);
  return msg;
}

bool send_message(int fd, std::vector<char>& msg) {
  uint32_t len = static_cast<uint32_t>(msg.size());
  std::memcpy(msg.data(), &len, sizeof len);  // nlmsg_len is the header's first field
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  return ::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) ==
         static_cast<ssize_t>(msg.size());
}

// Calls on_attr(type, payload, len) for each attribute in [data, data+len).
template <typename F>
void each_attr(const char* data, size_t len, F&& on_attr) {
  size_t at = 0;
  while (at + NLA_HDRLEN <= len) {
    nlattr a;
    std::memcpy(&a, data + at, sizeof a);
    if (a.nla_len < NLA_HDRLEN || at + a.nla_len > len) return;
    on_attr(static_cast<uint16_t>(a.nla_type & NLA_TYPE_MASK), data + at + NLA_HDRLEN, a.nla_len - NLA_HDRLEN);
    at += NLA_ALIGN(a.nla_len);
  }
}

// One reply to a request: the error of an NLMSG_ERROR (0 for an ACK), or calls `on_msg`.
template <typename F>
int read_reply(int fd, F&& on_msg) {
  alignas(nlmsghdr) static thread_local char buf[kBuf];
  for (int tries = 0; tries < 64; ++tries) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        nlmsgerr e;
        std::memcpy(&e, NLMSG_DATA(h), sizeof e);
        return e.error;
      }
      if (on_msg(h)) return 0;
    }
  }
  return -EPROTO;
}

}  // namespace

std::optional<ExitStats> ExitStats::open(std::string* why) {
  auto fail = [&](const std::string& what, int err) -> std::optional<ExitStats> {
    if (why) *why = sys_message("taskstats", what, err);
    return std::nullopt;
  };
  ExitStats s;
  s.fd_.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
  if (!s.fd_) return fail("socket", errno);
  int size = 1 << 20;
  ::setsockopt(s.fd_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  timeval tv{1, 0};
  ::setsockopt(s.fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_nl self{};
  self.nl_family = AF_NETLINK;
  if (::bind(s.fd_.get(), reinterpret_cast<sockaddr*>(&self), sizeof self) != 0) return fail("bind", errno);

  // 1. The family id.
  std::vector<char> get = genl_message(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
  put_attr(get, CTRL_ATTR_FAMILY_NAME, TASKSTATS_GENL_NAME, sizeof TASKSTATS_GENL_NAME);
  if (!send_message(s.fd_.get(), get)) return fail("send", errno);
  int rc = read_reply(s.fd_.get(), [&](const nlmsghdr* h) {
    const char* body = reinterpret_cast<const char*>(NLMSG_DATA(h)) + GENL_HDRLEN;
    each_attr(body, h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, [&](uint16_t type, const char* p, size_t len) {
      if (type == CTRL_ATTR_FAMILY_ID && len >= 2) std::memcpy(&s.family_, p, 2);
    });
    return true;
  });
  if (rc != 0 || s.family_ == 0) return fail("family TASKSTATS", rc != 0 ? -rc : ENOENT);

  // 2. Exit records of every CPU.
  long cpus = ::sysconf(_SC_NPROCESSORS_CONF);
  s.cpumask_ = "0-" + std::to_string(std::max(cpus, 1L) - 1);
  std::vector<char> reg = genl_message(s.family_, TASKSTATS_CMD_GET, TASKSTATS_GENL_VERSION, NLM_F_ACK);
  put_attr(reg, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, s.cpumask_.c_str(), s.cpumask_.size() + 1);
  if (!send_message(s.fd_.get(), reg)) return fail("send", errno);
  rc = read_reply(s.fd_.get(), [](const nlmsghdr*) { return false; });
  if (rc != 0) return fail("register", -rc);
  return s;
}

ExitStats::~ExitStats() {
  if (!fd_ || family_ == 0) return;
  std::vector<char> dereg = genl_message(family_, TASKSTATS_CMD_GET, TASKSTATS_GENL_VERSION, 0);
  put_attr(dereg, TASKSTATS_CMD_ATTR_DEREGISTER_CPUMASK, cpumask_.c_str(), cpumask_.size() + 1);
  send_message(fd_.get(), dereg);
}

void ExitStats::collect(pid_t root) {
  alignas(nlmsghdr) static thread_local char buf[kBuf];
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        lost_ = true;
        continue;
      }
      return;  // EAGAIN: nothing more now
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type != family_ || h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) continue;
      const char* body = reinterpret_cast<const char*>(NLMSG_DATA(h)) + GENL_HDRLEN;
      each_attr(body, h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, [&](uint16_t type, const char* p, size_t len) {
        if (type != TASKSTATS_TYPE_AGGR_PID) return;
        each_attr(p, len, [&](uint16_t inner, const char* q, size_t qlen) {
          if (inner != TASKSTATS_TYPE_STATS) return;
          taskstats t{};
          std::memcpy(&t, q, std::min(qlen, sizeof t));
          pid_t tgid = static_cast<pid_t>(t.ac_tgid != 0 ? t.ac_tgid : t.ac_pid);
          pid_t parent = static_cast<pid_t>(t.ac_ppid);
          bool mine = tgid == root || peaks_.count(tgid) || parent_.count(parent) || parent == root;
          if (!mine) return;
          parent_[tgid] = parent;
          peaks_[tgid] = std::max(peaks_[tgid], static_cast<uint64_t>(t.hiwater_rss) * 1024);
        });
      });
    }
  }
}

std::optional<uint64_t> ExitStats::peak_rss_bytes() const {
  if (lost_ || peaks_.empty()) return std::nullopt;
  uint64_t peak = 0;
  for (const auto& [tgid, bytes] : peaks_) peak = std::max(peak, bytes);
  return peak;
}

}  // namespace coldstart::launch
