// The reference user-service: GET /users/{id} answers {"id":1,"name":"Alice"}
// for id 1 and 404 otherwise. Listens on $ADDR (default 127.0.0.1:8081), or on
// the socket passed by socket activation (LISTEN_FDS), and sends READY=1 to
// $NOTIFY_SOCKET once it is listening. Stops cleanly on SIGTERM/SIGINT.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <httplib.h>

#include "coldstart/sd_daemon.hpp"

namespace {

/// A cpp-httplib server that serves on a socket we bound (or were passed) ourselves.
class FdServer : public httplib::Server {
 public:
  bool serve_on(int fd) {
    svr_sock_ = fd;
    return listen_after_bind();
  }
};

// "127.0.0.1:8081" -> bound, listening socket, or -1.
int listen_on(const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos) return -1;
  std::string host = addr.substr(0, colon);
  int port = std::atoi(addr.c_str() + colon + 1);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) return -1;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 128) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int main() {
  // A stop signal is taken by one thread with sigwait (blocked everywhere
  // else, threads inherit the mask), which waits for the accept loop before
  // stopping it: httplib's stop() does nothing before the loop runs, so a
  // SIGTERM that came right after READY=1 used to be lost and only SIGKILL
  // ended the service. Blocked before the socket listens: a tcp: probe is
  // ready at listen(), and a stop right after it used to kill the service
  // with the default action.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  FdServer server;
  server.Get(R"(/users/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
    const std::string& digits = req.matches[1].str();
    long id = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec == std::errc() && ptr == digits.data() + digits.size() && id == 1) {
      res.set_content(R"({"id":1,"name":"Alice"})", "application/json");
    } else {
      res.status = 404;
      res.set_content(R"({"error":"not found"})", "application/json");
    }
  });

  int fd = -1;
  int n = coldstart::sd::listen_fds();
  if (n >= 1) {
    fd = coldstart::sd::kListenFdsStart;
  } else {
    const char* env = std::getenv("ADDR");
    std::string addr = env != nullptr && env[0] != '\0' ? env : "127.0.0.1:8081";
    fd = listen_on(addr);
    if (fd < 0) {
      std::fprintf(stderr, "user-service: cannot listen on %s: %s\n", addr.c_str(), std::strerror(errno));
      return 1;
    }
  }

  // A stop signal is taken by one thread with sigwait, which waits for the
  // accept loop before stopping it (see the top of main).
  std::thread([&server, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    server.stop();
  }).detach();

  // The socket is listening: connections queue in the kernel from here on, so
  // this is the ready instant even before the accept loop runs.
  std::fprintf(stderr, "user-service: listening\n");
  coldstart::sd::notify("READY=1\nSTATUS=serving /users/{id}");
  server.serve_on(fd);
  return 0;
}
