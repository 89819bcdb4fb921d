// Interrupts of coldstart itself (Ctrl-C, SIGTERM, SIGHUP). While a launch
// runs, these must not kill coldstart on the spot: its process tree and cgroup
// would be left behind. An InterruptGuard turns them into a flag plus a byte on
// a self-pipe that the launcher's epoll loop watches; the loop then throws
// Interrupted, destructors stop the tree and remove the cgroup, and the
// command exits 128 + signal.
#pragma once

#include <exception>

namespace coldstart {

/// InterruptGuard installs the interrupt handlers for its lifetime (nestable;
/// the outermost one restores the previous dispositions).
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

/// The first interrupt signal received while a guard was installed, or 0.
int pending_interrupt();

/// Readable once an interrupt arrived (watch it with epoll); never drained, so
/// every loop sees it. -1 before the first InterruptGuard.
int interrupt_fd();

/// Thrown by waiting loops when an interrupt arrived.
class Interrupted : public std::exception {
 public:
  explicit Interrupted(int sig) : signal_(sig) {}
  int signal() const { return signal_; }
  /// 128 + signal, the shell's convention.
  int exit_code() const { return 128 + signal_; }
  const char* what() const noexcept override { return "interrupted"; }

 private:
  int signal_;
};

/// Throws Interrupted if an interrupt is pending.
void throw_if_interrupted();

}  // namespace coldstart
