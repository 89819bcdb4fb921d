// Contention processes: fork N children that join a sibling cgroup and spin.
//
// Each child joins its cgroups itself (a write of "0" to cgroup.procs; the v1
// one waits for an RCU grace period, so this stays out of any timed window),
// then reports on a pipe and spins in user space. The parent returns only
// when every child has reported: the load is on the CPUs before the measured
// launch starts. PR_SET_PDEATHSIG(SIGKILL) plus a getppid() check make sure a
// child never outlives coldstart, even after a SIGKILL of coldstart itself;
// the cgroup destructors kill whatever is left and rmdir.
#include "launch/contention.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.h"
#include "core/file.h"
#include "core/unique_fd.h"

namespace coldstart::launch {
namespace {

[[noreturn]] void spin(pid_t parent, const int* procs_fds, size_t nfds, int ready_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) _exit(127);
  for (size_t i = 0; i < nfds; ++i) {
    if (::write(procs_fds[i], "0", 1) != 1) _exit(126);
  }
  char c = 1;
  if (::write(ready_fd, &c, 1) != 1) _exit(125);
  ::close(ready_fd);
  volatile uint64_t x = 0;
  for (;;) x = x + 1;  // CPU-bound, no syscalls: pure demand for CPU time
}

}  // namespace

Contention::Contention(size_t n) {
  const CgroupLayout& layout = cgroup_layout();
  std::vector<UniqueFd> procs;
  auto make = [&](CgroupDir& slot, const std::string& hierarchy) {
    auto dir = CgroupDir::create(hierarchy, next_launch_cgroup_name() + "-contend");
    if (!dir) throw UserError("--contend: " + dir.error());
    slot = std::move(*dir);
    auto fd = slot.open_file("cgroup.procs", O_WRONLY);
    if (!fd) throw UserError("--contend: " + fd.error());
    procs.push_back(std::move(*fd));
  };
  if (!layout.v2.empty()) make(v2_, layout.v2);
  if (!layout.v2_has("cpu") && !layout.v1_cpu.empty()) make(v1_cpu_, layout.v1_cpu);
  if (procs.empty()) throw UserError("--contend: no cgroup hierarchy to hold the load");
  std::vector<int> raw;
  for (const auto& fd : procs) raw.push_back(fd.get());
  Pipe ready = make_pipe();
  const pid_t parent = ::getpid();
  for (size_t i = 0; i < n; ++i) {
    pid_t pid = ::fork();
    if (pid < 0) {
      int err = errno;
      stop();
      throw_sys("fork", "contention process", err);
    }
    if (pid == 0) spin(parent, raw.data(), raw.size(), ready.write_end.get());
    pids_.push_back(pid);
  }
  ready.write_end.reset();
  size_t reported = 0;
  while (reported < n) {
    char buf[64];
    ssize_t got = ::read(ready.read_end.get(), buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      stop();
      throw UserError("--contend: a load process could not join its cgroup");
    }
    reported += static_cast<size_t>(got);
  }
}

Contention::~Contention() { stop(); }

std::string Contention::cgroup_path() const { return v1_cpu_.valid() ? v1_cpu_.path() : v2_.path(); }

void Contention::stop() {
  for (pid_t pid : pids_) ::kill(pid, SIGKILL);
  for (pid_t pid : pids_) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pids_.clear();
  // Empty now; remove() waits for the kernel to drop the tasks, then rmdirs.
  (void)v1_cpu_.remove();
  (void)v2_.remove();
}

}  // namespace coldstart::launch
