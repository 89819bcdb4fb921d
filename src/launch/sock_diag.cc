// One NETLINK_SOCK_DIAG dump: a netlink header followed by the request body in
// one datagram to the kernel (nl_pid 0), answers read until NLMSG_DONE. The
// request size is at most a few dozen bytes; answers come in batches that fit
// a 32 KiB buffer (the kernel sizes each batch to the reader's buffer).
#include "launch/sock_diag.h"

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/unique_fd.h"

namespace coldstart::launch {
namespace {

// NLMSG_OK without its int/unsigned comparison (a -Wsign-compare warning
// under clang): the header and its claimed length lie within `len` bytes.
bool message_fits(const nlmsghdr* h, int len) {
  return len >= static_cast<int>(sizeof(nlmsghdr)) && h->nlmsg_len >= sizeof(nlmsghdr) &&
         h->nlmsg_len <= static_cast<unsigned>(len);
}

}  // namespace

void sock_diag_dump(const void* req, size_t req_len, const std::function<void(const nlmsghdr*)>& on_msg) {
  UniqueFd nl(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!nl) throw_sys("socket", "NETLINK_SOCK_DIAG");
  alignas(nlmsghdr) char msg[NLMSG_SPACE(256)] = {};
  if (req_len > 256) throw UserError("sock_diag: request too large");
  auto* hdr = reinterpret_cast<nlmsghdr*>(msg);
  hdr->nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(req_len));
  hdr->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  hdr->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  std::memcpy(NLMSG_DATA(hdr), req, req_len);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(nl.get(), msg, hdr->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    throw_sys("sendto", "NETLINK_SOCK_DIAG");
  alignas(nlmsghdr) char buf[32768];
  for (;;) {
    ssize_t n = ::recv(nl.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_sys("recv", "NETLINK_SOCK_DIAG");
    }
    if (n == 0) return;
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); message_fits(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) return;
      if (h->nlmsg_type == NLMSG_ERROR) {
        int err = 0;
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(nlmsgerr))) {
          nlmsgerr e;
          std::memcpy(&e, NLMSG_DATA(h), sizeof e);
          err = -e.error;
        }
        throw_sys("sock_diag", "dump", err != 0 ? err : EPROTO);
      }
      on_msg(h);
    }
  }
}

}  // namespace coldstart::launch
