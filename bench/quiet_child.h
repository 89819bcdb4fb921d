// One run of a command with stdout and stderr on /dev/null, timed from
// outside: wall time around posix_spawnp + wait4, and the child's user+sys
// CPU from wait4's rusage (robust to a noisy host). Shared by the benches
// that time coldstart as a user runs it (inspect_bench, lint_bench).
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

extern char** environ;

namespace coldstart::bench {

struct Sample {
  double wall = 0;  ///< seconds
  double cpu = 0;   ///< seconds, user + sys
};

inline double timeval_s(const timeval& t) { return static_cast<double>(t.tv_sec) + us_to_s(static_cast<double>(t.tv_usec)); }

/// Runs argv; throws UserError(`failure`) unless it exits 0.
inline Sample run_quiet(const std::vector<std::string>& argv, const std::string& failure) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  int64_t t0 = monotonic_ns();
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw UserError("cannot run " + argv[0]);
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  Sample s;
  s.wall = ns_to_s(monotonic_ns() - t0);
  s.cpu = timeval_s(ru.ru_utime) + timeval_s(ru.ru_stime);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw UserError(failure);
  return s;
}

/// The upper median (the middle element after sorting), as both benches print.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace coldstart::bench
