// A launched target's environment (see target_env.h).
#include "launch/target_env.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/process.h"
#include "core/strings.h"

namespace coldstart::launch {

TargetEnvironment target_environment(const LaunchOptions& options, const std::string& notify_address) {
  std::vector<std::string> overrides = options.env;
  if (!notify_address.empty()) overrides.push_back("NOTIFY_SOCKET=" + notify_address);
  if (!options.listen_fds.empty()) {
    std::vector<std::string> names;
    for (const auto& l : options.listen_fds) names.push_back(l.name.empty() ? "unknown" : l.name);
    overrides.push_back(fmt::format("LISTEN_FDS={}", options.listen_fds.size()));
    overrides.push_back("LISTEN_FDNAMES=" + join(names, ":"));
    overrides.push_back("LISTEN_PID=");
  }
  TargetEnvironment out;
  for (auto& kv : options.clear_env ? overrides : environment_with(overrides)) {
    bool ours = std::find(overrides.begin(), overrides.end(), kv) != overrides.end();
    bool foreign = kv.starts_with("NOTIFY_SOCKET=") || kv.starts_with("LISTEN_FDS=") ||
                   kv.starts_with("LISTEN_PID=") || kv.starts_with("LISTEN_FDNAMES=") ||
                   kv.starts_with("WATCHDOG_USEC=") || kv.starts_with("WATCHDOG_PID=");
    if (ours || !foreign) out.env.push_back(std::move(kv));
  }
  for (size_t i = 0; i < out.env.size(); ++i) {
    // The child completes these with its pid, as systemd sets them for the main process.
    if ((!options.listen_fds.empty() && out.env[i] == "LISTEN_PID=") || out.env[i] == "WATCHDOG_PID=")
      out.own_pid_indexes.push_back(static_cast<int>(i));
  }
  return out;
}

}  // namespace coldstart::launch
