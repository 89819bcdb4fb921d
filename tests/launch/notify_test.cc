// sd_notify datagrams: parsing, and the socket with sender credentials.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "core/clock.h"

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

// The ready instant is when the service sent READY=1, not when we got round
// to reading it: a datagram read 30 ms after it was sent carries its send time.
TEST(NotifySocket, SentInstantIsTheKernelsStampNotTheReadTime) {
  NotifySocket s = NotifySocket::create();
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, s.address().data(), s.address().size());
  const int64_t before = monotonic_ns();
  ASSERT_EQ(::sendto(fd, "READY=1", 7, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 7);
  const int64_t after = monotonic_ns();
  ::close(fd);
  ::usleep(30000);
  auto m = s.receive();
  ASSERT_TRUE(m.has_value());
  EXPECT_GE(m->received_ns - m->sent_ns, 30000000);
  // Wide margin: the two clocks are converted with an offset read back to back.
  EXPECT_GE(m->sent_ns, before - 1000000);
  EXPECT_LE(m->sent_ns, after + 1000000);
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
