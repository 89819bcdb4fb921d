// Interrupt handling: an async-signal-safe handler records the first signal in
// an atomic and writes one byte to a non-blocking close-on-exec self-pipe
// (write(2) is async-signal-safe), so any epoll loop wakes up at once.
#include "core/signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

namespace coldstart {
namespace {

std::atomic<int> g_pending{0};
std::atomic<int> g_pipe_read{-1};
std::atomic<int> g_pipe_write{-1};
std::mutex g_mutex;
int g_depth = 0;
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_previous[3];

void on_interrupt(int sig) {
  int expected = 0;
  g_pending.compare_exchange_strong(expected, sig);
  int fd = g_pipe_write.load();
  if (fd >= 0) {
    char c = 1;
    ssize_t ignored = ::write(fd, &c, 1);
    (void)ignored;
  }
}

}  // namespace

InterruptGuard::InterruptGuard() {
  std::lock_guard lock(g_mutex);
  if (g_pipe_read.load() < 0) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
      g_pipe_read = fds[0];
      g_pipe_write = fds[1];
    }
  }
  if (g_depth++ > 0) return;
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < 3; ++i) ::sigaction(kSignals[i], &sa, &g_previous[i]);
}

InterruptGuard::~InterruptGuard() {
  std::lock_guard lock(g_mutex);
  if (--g_depth > 0) return;
  for (size_t i = 0; i < 3; ++i) ::sigaction(kSignals[i], &g_previous[i], nullptr);
}

int pending_interrupt() { return g_pending.load(); }

int interrupt_fd() { return g_pipe_read.load(); }

void throw_if_interrupted() {
  if (int sig = g_pending.load()) throw Interrupted(sig);
}

}  // namespace coldstart
