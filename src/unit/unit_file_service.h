// Typed reading of the [Service] and [Socket] settings that matter for
// start-up, from a parsed UnitFile (unit_file.h). Shared by `run --unit`
// (which applies them) and `lint` (which judges them).
//
// Semantics follow systemd v252 (systemd.service(5), systemd.socket(5),
// systemd.resource-control(5)):
//  * The last assignment of a single-valued setting wins; an empty value
//    resets it to its default. An invalid value is IGNORED by systemd (logged
//    as a warning): we keep the previous value and record a UnitProblem with
//    the position, so `run` can refuse and `lint` can report it.
//  * TimeoutSec= sets TimeoutStartSec= and TimeoutStopSec=; for both "0"
//    means no timeout (infinity); the default is 90 s.
//  * Environment= and Exec*= are lists: every assignment adds, an empty one
//    clears. Later Environment= values of the same name override earlier ones.
//  * Values are specifier-expanded (%n, %i, %t, ...) where systemd does so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "unit/unit_file.h"
#include "unit/unit_file_values.h"

namespace coldstart::unit {

/// A setting's value and, if the unit set it, where (the winning assignment).
template <typename T>
struct Located {
  T value{};
  std::optional<SourcePos> pos;  // nullopt: the default applies
  bool is_set() const { return pos.has_value(); }
};

/// A value systemd would reject (and ignore), with the position of the problem.
struct UnitProblem {
  SourcePos pos;
  std::string key;      // e.g. "TimeoutStartSec"
  std::string message;  // e.g. "invalid time span 'ten': expected a number"
  size_t entry = 0;     // index of the assignment in UnitFile::entries()
};

inline constexpr uint64_t kDefaultTimeoutUsec = 90 * kUsecPerSec;

/// ServiceConfig is what a [Service] section means for starting the service.
struct ServiceConfig {
  /// simple exec forking oneshot dbus notify idle. Without Type=, systemd's
  /// default: dbus when BusName= is set, else simple (pos stays nullopt).
  Located<std::string> type{"simple", {}};
  Located<std::string> bus_name;
  Located<std::vector<ExecCommand>> exec_start;
  Located<std::vector<ExecCommand>> exec_start_pre;
  /// NAME=value in the order they take effect (a later same NAME replaced).
  Located<std::vector<std::pair<std::string, std::string>>> environment;
  std::vector<std::string> environment_files;  // "-" prefix kept
  Located<uint64_t> timeout_start_usec{kDefaultTimeoutUsec, {}};
  Located<uint64_t> timeout_stop_usec{kDefaultTimeoutUsec, {}};
  Located<uint64_t> runtime_max_usec{kUsecInfinity, {}};
  Located<uint64_t> watchdog_usec{0, {}};  // 0: no watchdog
  Located<uint64_t> restart_usec{100000, {}};
  Located<std::string> restart{"no", {}};
  Located<std::string> notify_access{"", {}};  // "" = systemd's default (main for notify)
  Located<uint64_t> cpu_quota_usec_per_sec{kUsecInfinity, {}};
  Located<MemoryLimit> memory_max;
  Located<MemoryLimit> memory_high;
  Located<std::string> working_directory;
  Located<std::string> user;
  std::vector<UnitProblem> problems;

  /// The first ExecStart= program resolved like systemd ("" if none/not found).
  std::string main_program() const;
  /// The value of NAME in Environment= (not EnvironmentFile=), if set.
  std::optional<std::string> env(const std::string& name) const;
};

/// SocketConfig is what a [Socket] section says about listening sockets.
struct SocketConfig {
  std::vector<Located<std::string>> listen_stream;
  std::vector<Located<std::string>> listen_datagram;
  std::vector<Located<std::string>> listen_sequential_packet;
  Located<bool> accept{false, {}};
  Located<std::string> service;  // Service=, else <name>.service
  std::vector<UnitProblem> problems;
};

/// Reads [Service]. `physical_memory` resolves "MemoryMax=50%" (0: read
/// /proc/meminfo).
ServiceConfig read_service(const UnitFile& unit, uint64_t physical_memory = 0);

/// Reads [Socket]; `service.value` is always filled (Service= or the socket's
/// own name with ".service").
SocketConfig read_socket(const UnitFile& unit);

/// Host RAM in bytes from /proc/meminfo (MemTotal), 0 if unknown.
uint64_t physical_memory_bytes();

}  // namespace coldstart::unit
