// `coldstart lint`'s entry point: reads unit files and Kubernetes manifests,
// applies the rules of lint/rules.h with the facts of lint/facts.h, and
// returns a LintReport for cli/lint.cc to print.
#pragma once

#include <string>
#include <vector>

#include "lint/facts.h"
#include "lint/finding.h"
#include "supervise/unit_file.h"

namespace coldstart::lint {

struct K8sWorkload;

/// The OS seams and measurements lint works with.
struct LintContext {
  BinaryProbe probe = probe_binary;
  std::vector<MeasuredStart> bench;  // from --bench, may be empty
  std::string bench_file;            // for messages
  unsigned host_cpus = 0;            // 0: this machine's online CPUs
  /// How long a start may take when no --bench says (kubelet's default
  /// liveness window, 0 + 10 s x 3, so only tightened probes fire).
  double default_start_seconds = 30;
};

/// Lints every file: "*.service"/"*.socket" (with drop-ins) as units,
/// "*.yaml"/"*.yml"/"*.json" as Kubernetes manifests; any other name is
/// sniffed ("[Section]" first means a unit). Throws UserError for an
/// unreadable file and InputError (with position) for one that cannot be parsed.
LintReport lint_paths(const std::vector<std::string>& paths, const LintContext& context);

/// The unit rules over one unit (a .service or a .socket).
void lint_unit(const supervise::UnitFile& unit, const LintContext& context, LintReport& report);

/// The Kubernetes rules over the workloads of one manifest file.
void lint_workloads(const std::vector<K8sWorkload>& workloads, const LintContext& context, LintReport& report);

}  // namespace coldstart::lint
