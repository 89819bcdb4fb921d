// sd_notify datagrams: parsing, and the socket with sender credentials.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "launch/notify.h"

namespace coldstart::launch {
namespace {

TEST(NotifyParse, KnownKeys) {
  auto m = parse_notify_datagram("READY=1\nSTATUS=serving on :80\nMAINPID=42\nEXTEND_TIMEOUT_USEC=5000000\nERRNO=2\n");
  EXPECT_TRUE(m.ready);
  EXPECT_EQ(m.status, "serving on :80");
  EXPECT_EQ(m.mainpid, 42);
  EXPECT_EQ(m.extend_timeout_usec, 5000000u);
  EXPECT_EQ(m.errno_value, 2);
  EXPECT_TRUE(m.malformed.empty());
  EXPECT_EQ(m.fields.size(), 5u);
}

TEST(NotifyParse, BadLinesAreKeptAsMalformed) {
  auto m = parse_notify_datagram("garbage\nMAINPID=-3\nREADY=0\n=x\nWATCHDOG=1");
  EXPECT_FALSE(m.ready);
  EXPECT_FALSE(m.mainpid);
  EXPECT_TRUE(m.watchdog);
  EXPECT_EQ(m.malformed.size(), 3u);
}

TEST(NotifyParse, BinaryInputDoesNotCrash) {
  std::string bytes("\0\xff=\n\n==\nREADY=1", 15);
  auto m = parse_notify_datagram(bytes);
  EXPECT_TRUE(m.ready);
}

TEST(NotifySocket, ReceivesWithCredentials) {
  NotifySocket s = NotifySocket::create();
  EXPECT_EQ(s.address()[0], '/');
  EXPECT_FALSE(s.receive().has_value());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, s.address().data(), s.address().size());
  socklen_t len = sizeof addr;
  const char msg[] = "READY=1\nSTATUS=hi";
  ASSERT_EQ(::sendto(fd, msg, sizeof msg - 1, 0, reinterpret_cast<sockaddr*>(&addr), len),
            static_cast<ssize_t>(sizeof msg - 1));
  ::close(fd);
  auto m = s.receive();
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->ready);
  EXPECT_EQ(m->status, "hi");
  EXPECT_EQ(m->sender_pid, ::getpid());
  EXPECT_EQ(m->sender_uid, ::getuid());
  EXPECT_GT(m->received_ns, 0);
}

TEST(NotifySocket, RemovesItsFileWhenDestroyed) {
  std::string path;
  {
    NotifySocket s = NotifySocket::create();
    path = s.address();
    EXPECT_EQ(::access(path.c_str(), F_OK), 0);
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace coldstart::launch
