// Kubernetes manifests as lint needs them: the pod template of each workload
// (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, and
// the items of a List), its containers and initContainers with ports,
// probes, resources and env names, each with the file:line:col it came from.
// Parsed with yaml-cpp (JSON manifests too); multi-document files are read
// document by document.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lint/finding.h"

namespace coldstart::lint {

/// A probe's timing (the kubelet's defaults where the manifest is silent).
struct K8sProbe {
  double initial_delay = 0;   // initialDelaySeconds
  double period = 10;         // periodSeconds
  double failure_threshold = 3;
  double timeout = 1;         // timeoutSeconds
  SourcePos pos;              // the probe's key
  /// Seconds from container start until the kubelet acts on failures:
  /// initialDelaySeconds + periodSeconds x failureThreshold.
  double window() const { return initial_delay + period * failure_threshold; }
};

/// A resource quantity ("500m", "1Gi") and where it was written.
struct K8sQuantity {
  double value = 0;  // CPUs or bytes
  std::string text;
  SourcePos pos;
};

/// One container of a pod template.
struct K8sContainer {
  std::string name;
  bool init = false;  // from initContainers
  SourcePos pos;
  bool has_ports = false;
  std::optional<K8sProbe> liveness, readiness, startup;
  std::optional<K8sQuantity> cpu_request, cpu_limit, memory_request, memory_limit;
  std::vector<std::string> env_names;
  bool env_from = false;  // envFrom: names we cannot see
  bool env_has(std::string_view name) const;
};

/// One workload and its pod template's containers.
struct K8sWorkload {
  std::string kind;  // "Deployment"
  std::string name;  // metadata.name
  SourcePos pos;     // the document's "kind" key
  std::vector<K8sContainer> containers;  // initContainers first
};

/// Reads every workload of a manifest file. Documents of other kinds
/// (Service, ConfigMap, ...) are skipped. Throws InputError with the position
/// for YAML syntax errors and for fields of the wrong type.
std::vector<K8sWorkload> read_manifests(std::string_view text, const std::string& file);

/// A Kubernetes quantity: "500m" -> 0.5, "1Gi" -> 2^30, "1e3" -> 1000,
/// "128M" -> 1.28e8. nullopt if malformed.
std::optional<double> parse_quantity(std::string_view text);

}  // namespace coldstart::lint
