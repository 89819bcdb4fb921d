// Who a start was, read from its cgroup path: the systemd unit, the
// Kubernetes pod and container, the container runtime, else the executable.
// Pure functions (no file system), tested over real-looking paths.
#pragma once

#include <string>
#include <string_view>

namespace coldstart::watch {

/// What the cgroup path says about a start. `service` and `kind` are the
/// metric labels and stay bounded: no PIDs, no container or pod IDs, no
/// template instances (those are in the other fields, for the event log).
struct StartLabels {
  std::string service;  ///< unit name ("nginx.service", "getty@.service") or executable basename
  std::string kind;     ///< "systemd", "systemd-user", "kubernetes", "container", "coldstart", "cgroup", "match"
  std::string unit;     ///< the full unit name ("getty@tty1.service"), if any
  std::string instance; ///< the template instance ("tty1"), if any
  std::string pod_uid;      ///< Kubernetes pod UID (dashes, as the API shows it)
  std::string qos;          ///< "guaranteed", "burstable", "besteffort"
  std::string container_id; ///< the container ID from the scope or directory name
  std::string runtime;      ///< "containerd", "cri-o", "docker", "podman"
};

/// Labels for a start in cgroup `path` (relative to the unified hierarchy's
/// root, as /proc/PID/cgroup's "0::" line shows it) whose first executable is
/// `exe` (a path; its basename names services that have no unit).
StartLabels labels_from_cgroup(std::string_view path, std::string_view exe);

/// Labels for a start found by --match outside a fresh cgroup: kind "match".
StartLabels labels_for_match(std::string_view exe);

/// "getty@tty1.service" -> {"getty@.service", "tty1"}; "session-3.scope" ->
/// {"session.scope", "3"}; other names unchanged with no instance.
std::pair<std::string, std::string> bounded_unit_name(std::string_view unit);

/// The last path component of `exe`, at most 64 bytes ("" for "").
std::string exe_basename(std::string_view exe);

}  // namespace coldstart::watch
