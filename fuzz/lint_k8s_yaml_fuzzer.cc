// Manifest text -> workloads -> Kubernetes rules: malformed YAML or wrong
// field types must be an InputError with a position, never a crash or an
// exception of another type (yaml-cpp's own exceptions included).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lint/k8s_manifest.h"
#include "lint/lint.h"

using namespace coldstart::lint;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<K8sWorkload> workloads;
  try {
    workloads = read_manifests(text, "fuzz.yaml");
  } catch (const InputError& e) {
    if (e.pos().line < 1 || e.pos().column < 1) std::abort();
    return 0;
  }
  LintContext context;
  context.probe = [](const std::string&) -> coldstart::Result<BinaryFacts> { return coldstart::unexpected("fuzz"); };
  LintReport report;
  lint_workloads(workloads, context, report);
  for (const Finding& f : report.findings)
    if (f.pos.line < 1 || f.message.empty()) std::abort();
  (void)parse_quantity(text);
  return 0;
}
