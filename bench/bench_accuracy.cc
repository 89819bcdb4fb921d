// Accuracy of time-to-ready (issue 3): how far above the target's own delay
// does the measured time land? In one run, for the launch fixture waiting D ms
// (spinning, then sleeping) before READY=1, interleaved:
//   1. coldstart's launcher (launch_once, --ready notify),
//   2. a hand-made loop: t0, posix_spawn, blocking recv() on the notify socket,
//      t1 when recv returns - what people write by hand.
// The fixture reports its own CLOCK_MONOTONIC at main() and before sendto()
// in the datagram, so "own" is what it really waited (D plus the VM's timer
// overshoot) and "added" = time-to-ready - own: spawn/exec plus detection.
// The target: coldstart's median within D + 0.3 ms, i.e. added <= 0.3 ms.
//
// usage: bench_accuracy LAUNCH_FIXTURE [RUNS]
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/clock.h"
#include "launch/launcher.h"
#include "launch/notify.h"

extern char** environ;

namespace {

using coldstart::monotonic_ns;
using namespace coldstart::launch;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int64_t field(const NotifyMessage& m, const char* key) {
  for (const auto& [k, v] : m.fields) {
    if (k == key) return std::stoll(v);
  }
  return 0;
}

struct Sample {
  double total_ms;
  double own_ms;  // the fixture's main() to just before its sendto()
};

Sample coldstart_once(const std::string& fixture, const char* mode, int d) {
  LaunchOptions o;
  o.argv = {fixture, mode, std::to_string(d)};
  o.ready = ReadySpec::parse("notify");
  o.output = OutputMode::kDiscard;
  RunRecord r = launch_once(o);
  if (!r.ready || r.notifications.empty()) {
    std::fprintf(stderr, "coldstart launch failed: %s\n", r.failure.c_str());
    std::exit(2);
  }
  const NotifyMessage& m = r.notifications.back();
  return {coldstart::to_seconds(r.time_to_ready) * 1e3, (field(m, "X_FIXTURE_SENT_NS") - field(m, "X_FIXTURE_MAIN_NS")) / 1e6};
}

// The hand-made loop: a plain datagram socket, blocking recv, the clock read
// when recv returns.
Sample hand_once(const std::string& fixture, const char* mode, int d, const std::string& sock_path, int sock) {
  std::string ds = std::to_string(d);
  char* argv[] = {const_cast<char*>(fixture.c_str()), const_cast<char*>(mode), ds.data(), nullptr};
  std::string env_notify = "NOTIFY_SOCKET=" + sock_path;
  char* envp[] = {env_notify.data(), nullptr};
  const int64_t t0 = monotonic_ns();
  pid_t pid;
  if (posix_spawn(&pid, fixture.c_str(), nullptr, nullptr, argv, envp) != 0) std::exit(2);
  char buf[512];
  ssize_t n = ::recv(sock, buf, sizeof buf - 1, 0);
  const int64_t t1 = monotonic_ns();
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  if (n <= 0) std::exit(2);
  NotifyMessage m = parse_notify_datagram(std::string_view(buf, static_cast<size_t>(n)));
  return {(t1 - t0) / 1e6, (field(m, "X_FIXTURE_SENT_NS") - field(m, "X_FIXTURE_MAIN_NS")) / 1e6};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_accuracy LAUNCH_FIXTURE [RUNS]\n");
    return 2;
  }
  const std::string fixture = argv[1];
  const int runs = argc > 2 ? std::atoi(argv[2]) : 21;
  char dir[] = "/tmp/coldstart-accuracy-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return 2;
  const std::string sock_path = std::string(dir) + "/notify";
  int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size() + 1);
  if (::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 2;

  std::printf("%d runs per row, interleaved; medians in ms. added = time-to-ready - the fixture's own wait.\n\n", runs);
  std::printf("| fixture     |  D | own wait | coldstart | added  | hand loop | added  | added ratio |\n");
  std::printf("|-------------|---:|---------:|----------:|-------:|----------:|-------:|------------:|\n");
  for (const char* mode : {"notify-spin", "notify"}) {
    for (int d : {1, 2, 5, 10, 20, 50}) {
      coldstart_once(fixture, mode, d);  // warm-up
      std::vector<double> cs, cs_added, hand, hand_added, own;
      for (int i = 0; i < runs; ++i) {
        Sample c = coldstart_once(fixture, mode, d);
        Sample h = hand_once(fixture, mode, d, sock_path, sock);
        cs.push_back(c.total_ms);
        cs_added.push_back(c.total_ms - c.own_ms);
        hand.push_back(h.total_ms);
        hand_added.push_back(h.total_ms - h.own_ms);
        own.push_back(c.own_ms);
      }
      std::printf("| %-11s | %2d | %8.3f | %9.3f | %6.3f | %9.3f | %6.3f | %10.2fx |\n", mode, d, median(own),
                  median(cs), median(cs_added), median(hand), median(hand_added),
                  median(cs_added) / median(hand_added));
    }
  }
  ::close(sock);
  ::unlink(sock_path.c_str());
  ::rmdir(dir);
  return 0;
}
