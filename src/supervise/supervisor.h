// `coldstart run`'s engine: supervises one service until it is done, with the
// rules of lifecycle.h, the shared launcher (launch/launcher.h) and the
// listening sockets of listeners.h. Writes nothing to stdout: it logs through
// a callback and returns a SupervisorReport that cli/run.cc prints.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "launch/launcher.h"
#include "supervise/lifecycle.h"
#include "supervise/listeners.h"

namespace coldstart::supervise {

/// Everything `run` was asked to do.
struct SupervisorOptions {
  launch::LaunchOptions launch;       // argv, env, cwd, ready, limits, output
  LifecycleConfig lifecycle;
  std::vector<ListenAddress> listen;  // socket activation, in fd order
  std::vector<std::string> fdnames;
  /// With --boost-until-ready: the CPU limit applied at the ready instant
  /// (launch.limits.cpu_max then holds the generous start-up limit).
  std::optional<launch::CpuMax> cpu_max_after_ready;
  /// ExecStartPre= commands, run to completion before each start.
  struct PreCommand {
    std::vector<std::string> argv;
    bool ignore_failure = false;  // systemd's '-' prefix
  };
  std::vector<PreCommand> pre_commands;
  /// --prewarm: a pagecache manifest loaded before each start.
  std::string prewarm_manifest;
  /// How often the open-connection census runs for --idle-stop.
  Duration census_interval = std::chrono::milliseconds(200);
};

/// One start of the service, in CLOCK_MONOTONIC ns (0 = did not happen).
struct StartRecord {
  int64_t spawn_ns = 0;
  int64_t ready_ns = 0;
  int64_t boost_end_ns = 0;
  int64_t end_ns = 0;
  pid_t pid = 0;
  std::string end;  // "exit code 0", "killed by SIGABRT (core dumped)", ...
  std::string stop_reason;  // why coldstart stopped it ("start timeout", "idle", ...), if it did
  launch::ResourceUsage at_end;    // the tree's figures up to its stop
};

/// What a supervision did, for the timeline and the JSON output.
struct SupervisorReport {
  int64_t begin_ns = 0;  // when supervision began (the timeline's zero)
  int exit_code = 0;
  std::vector<StartRecord> starts;
  int restarts = 0;
  std::string final_reason;  // "exit", "start limit", "stopped by SIGTERM", ...
  std::vector<std::string> listening;  // the --listen addresses as bound
};

std::string_view to_string(ServiceLifecycle::Reason r);

/// Logs one supervisor line (CLOCK_MONOTONIC ns, text without newline).
using SupervisorLog = std::function<void(int64_t now_ns, std::string_view line)>;

/// Supervises until the service is done (no restart left, stopped by a
/// signal to coldstart, ...). Kills the whole tree and removes its cgroups on
/// every path. Throws UserError for bad options or a service that cannot be
/// spawned.
SupervisorReport supervise(const SupervisorOptions& options, const SupervisorLog& log);

}  // namespace coldstart::supervise
