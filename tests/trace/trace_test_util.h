// Shared by the trace suites: a traced launch of a fixture, ready at its exit,
// with the core spawner's paused start (the same steps cli/trace.cc drives
// through the launcher), and where the trace fixtures live.
#pragma once

#include <poll.h>

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/process.h"
#include "test_util.h"
#include "trace/phases.h"
#include "trace/tracer.h"

namespace coldstart::test {

inline std::string trace_fixture(const std::string& name) { return std::string(TRACE_FIXTURE_DIR) + "/" + name; }

inline int run_tracer_hook(void* arg) { return static_cast<trace::Tracer*>(arg)->child_pre_exec(); }

/// Launches argv under `tracer` and treats the exit as the ready instant.
inline trace::TraceLog trace_to_exit(trace::Tracer& tracer, const std::vector<std::string>& argv,
                                     const std::vector<std::string>& env = {}, ExitStatus* status = nullptr) {
  tracer.prepare(trace::describe_target(resolve_program(argv[0])));
  SpawnOptions options;
  options.argv = argv;
  options.env = environment_with(env);
  options.paused = true;
  options.hook = run_tracer_hook;
  options.hook_arg = &tracer;
  ChildProcess child = spawn(options);
  tracer.follow(child.pid(), 0);  // no cgroup: the bpf backend follows the tgid tree
  int64_t t0 = monotonic_ns();
  child.resume();
  // A blocking wait of a child that our own tracer thread ptraces would take
  // its ptrace stops (same thread group): wait for the pidfd (exit) first.
  pollfd pfd{child.pidfd(), POLLIN, 0};
  while (::poll(&pfd, 1, -1) < 0) {
  }
  ExitStatus st = child.wait();
  int64_t end = monotonic_ns();
  if (status != nullptr) *status = st;
  return tracer.finish(t0, end, end, "ready");
}

/// The phases of a summary, in order.
inline std::vector<trace::Phase> phase_list(const trace::TraceSummary& s) {
  std::vector<trace::Phase> out;
  for (const auto& p : s.phases) out.push_back(p.phase);
  return out;
}

/// Seconds a phase spent off the CPU for `cause`.
inline double cause_s(const trace::PhaseStats& p, trace::WaitCause cause) {
  return p.off_cpu_s[static_cast<size_t>(cause)];
}

}  // namespace coldstart::test
