// The environment a launched target gets: ours (unless the launch clears it)
// plus the caller's entries, with the service-manager variables
// (NOTIFY_SOCKET, LISTEN_*, WATCHDOG_*) only when they are meant for this
// target, never a parent supervisor's leaking through.
#pragma once

#include <string>
#include <vector>

#include "launch/launcher.h"

namespace coldstart::launch {

struct TargetEnvironment {
  std::vector<std::string> env;  ///< "K=V", complete
  /// Indexes of "LISTEN_PID=" / "WATCHDOG_PID=" entries the child completes
  /// with its own pid (SpawnOptions::own_pid_env_indexes).
  std::vector<int> own_pid_indexes;
};

/// `notify_address`: the launch's NOTIFY_SOCKET, or empty without one.
TargetEnvironment target_environment(const LaunchOptions& options, const std::string& notify_address);

}  // namespace coldstart::launch
