// Socket activation's listening side and the open-connection census, on real
// sockets of this host.
#include "supervise/listeners.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "supervise/connections.h"
#include "test_util.h"

namespace coldstart::supervise {
namespace {

UniqueFd connect_tcp(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  return fd;
}

UniqueFd connect_unix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  return fd;
}

TEST(ListenAddress, ParsesTheForms) {
  auto a = parse_listen_address("tcp:127.0.0.1:8080");
  EXPECT_EQ(a.kind, ListenAddress::Kind::kTcp);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8080);
  EXPECT_EQ(parse_listen_address("tcp:[::1]:81").host, "::1");
  EXPECT_EQ(parse_listen_address("tcp:9000").host, "");
  EXPECT_EQ(parse_listen_address("unix:/run/x.sock").path, "/run/x.sock");
  EXPECT_EQ(parse_listen_address("unix:@abstract").path, "@abstract");
  EXPECT_EQ(parse_listen_address("tcp:[::1]:81").to_string(), "tcp:[::1]:81");
}

TEST(ListenAddress, RejectsMalformedText) {
  for (const char* bad : {"", "udp:1.2.3.4:5", "tcp:1.2.3.4:", "tcp:1.2.3.4:70000", "tcp:localhost:80",
                          "tcp:[::1:80", "unix:", "unix:relative", "tcp:1.2.3.4:8x"})
    EXPECT_THROW(parse_listen_address(bad), UserError) << bad;
  EXPECT_THROW(parse_listen_address("unix:/" + std::string(200, 'x')), UserError);
}

TEST(Listener, FdNamesFollowSystemdSocketActivate) {
  std::vector<ListenAddress> two = {parse_listen_address("tcp:127.0.0.1:0"),
                                    parse_listen_address("tcp:127.0.0.1:0")};
  auto names = [](const std::vector<Listener>& ls) {
    std::vector<std::string> out;
    for (const auto& fd : listen_fds(ls)) out.push_back(fd.name);
    return out;
  };
  EXPECT_EQ(names(open_listeners(two, {})), (std::vector<std::string>{"unknown", "unknown"}));
  EXPECT_EQ(names(open_listeners(two, {"web"})), (std::vector<std::string>{"web", "web"}));
  EXPECT_EQ(names(open_listeners(two, {"a", "b"})), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(open_listeners(two, {"a", "b", "c"}), UserError);
  EXPECT_THROW(open_listeners(two, {"a:b"}), UserError);
}

TEST(Listener, BindsTcpAndQueuesConnectionsWithoutAccepting) {
  auto ls = open_listeners({parse_listen_address("tcp:127.0.0.1:0")}, {});
  ASSERT_NE(ls[0].bound_port(), 0);
  EXPECT_EQ(count_open_connections(ls), 0u);
  // Many clients connect while nobody accepts: the kernel completes every handshake.
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 50; ++i) clients.push_back(connect_tcp(ls[0].bound_port()));
  EXPECT_EQ(wait_for_connection(ls, -1), 0);
  EXPECT_GE(count_open_connections(ls), 50u);
  // Accepted connections still count; closed ones stop counting.
  UniqueFd served(::accept4(ls[0].fd(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(served.valid());
  for (size_t i = 1; i < clients.size(); ++i) clients[i].reset();
  for (;;) {  // drain the rest of the queue as a service would
    pollfd p{ls[0].fd(), POLLIN, 0};
    if (::poll(&p, 1, 0) != 1) break;
    UniqueFd c(::accept4(ls[0].fd(), nullptr, nullptr, SOCK_CLOEXEC));
  }
  EXPECT_EQ(count_open_connections(ls), 1u);
  served.reset();
  EXPECT_EQ(count_open_connections(ls), 0u);
}

TEST(Listener, BindsUnixSocketsReplacesStaleOnesAndRemovesThem) {
  test::TempDir dir;
  std::string path = dir.path() + "/svc.sock";
  {
    auto stale = open_listeners({parse_listen_address("unix:" + path)}, {});
  }
  struct stat st {};
  EXPECT_NE(::stat(path.c_str(), &st), 0) << "removed on close";
  auto first = Listener::open(parse_listen_address("unix:" + path), "x");
  auto second = open_listeners({parse_listen_address("unix:" + path)}, {});  // replaces like systemd
  UniqueFd client = connect_unix(path);
  EXPECT_EQ(wait_for_connection(second, -1), 0);
  EXPECT_EQ(count_open_connections(second), 1u);  // queued
  UniqueFd served(::accept4(second[0].fd(), nullptr, nullptr, SOCK_CLOEXEC));
  EXPECT_EQ(count_open_connections(second), 1u);  // accepted, still open
  client.reset();
  served.reset();
  EXPECT_EQ(count_open_connections(second), 0u);
}

TEST(Listener, WaitReturnsMinusOneWhenTheExtraFdFires) {
  auto ls = open_listeners({parse_listen_address("tcp:127.0.0.1:0")}, {});
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd r(p[0]), w(p[1]);
  ASSERT_EQ(::write(w.get(), "x", 1), 1);
  EXPECT_EQ(wait_for_connection(ls, r.get()), -1);
}

TEST(Listener, BusyPortIsAUserError) {
  auto ls = open_listeners({parse_listen_address("tcp:127.0.0.1:0")}, {});
  auto again = parse_listen_address("tcp:127.0.0.1:" + std::to_string(ls[0].bound_port()));
  EXPECT_THROW(Listener::open(again, "x"), UserError);
}

}  // namespace
}  // namespace coldstart::supervise
