// `coldstart lint`'s entry point: reads unit files and Kubernetes manifests,
// applies the rules of lint/rules.h with the facts of lint/facts.h, and
// returns a LintReport for cli/lint.cc to print.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lint/facts.h"
#include "lint/finding.h"
#include "unit/unit_file.h"

namespace coldstart::lint {

struct K8sWorkload;

/// The OS seams and measurements lint works with.
struct LintContext {
  BinaryProbe probe = make_binary_probe();
  std::vector<MeasuredStart> bench;  // from every --bench file, may be empty
  unsigned host_cpus = 0;            // 0: this machine's online CPUs
  /// --assume-start: a start time to judge probe windows by when no --bench
  /// result names the container (nullopt: not given).
  std::optional<double> assume_start;
  /// Files larger than this are not read (--max-size): a clear error instead
  /// of minutes of parsing and gigabytes of nodes.
  uint64_t max_file_bytes = 64ull << 20;
};

/// Lints every path: "*.service"/"*.socket" and systemd's other unit types
/// (with drop-ins) as units, "*.yaml"/"*.yml"/"*.json" as Kubernetes
/// manifests; any other name is sniffed ("[Section]" first means a unit). A
/// directory stands for the unit files and manifests directly in it (its
/// "*.d"/"*.wants"/"*.requires" subdirectories are systemd's, read with their
/// units, and skipped also when named themselves, as a shell glob does). A file that cannot be read, is too large or cannot be parsed goes
/// into LintReport::not_checked with its position, and the others are still
/// linted: one bad file of a batch loses no findings.
LintReport lint_paths(const std::vector<std::string>& paths, const LintContext& context);

/// The unit rules over one unit (a .service or a .socket).
void lint_unit(const unit::UnitFile& unit, const LintContext& context, LintReport& report);

/// The Kubernetes rules over the workloads of one manifest file.
void lint_workloads(const std::vector<K8sWorkload>& workloads, const LintContext& context, LintReport& report);

}  // namespace coldstart::lint
