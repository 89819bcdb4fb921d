#include "cli/commands.h"

#include <CLI/CLI.hpp>

#include "core/error.h"

namespace coldstart::cli {
namespace {

constexpr Command kCommands[] = {
    {"inspect", "what in a binary costs start time: PIE, loader, libraries, relocations, Go build info",
     setup_inspect},
    {"bench", "time-to-ready over many launches, cold or warm, limited or not, compared", setup_bench},
    {"trace", "one launch explained phase by phase: loader, runtime init, app init, waits", setup_trace},
    {"prewarm", "record the pages a start needs; load, evict or show them", setup_prewarm},
    {"run", "supervise a service with systemd's start-up semantics, socket activation and boost",
     setup_run},
    {"lint", "start-up mistakes in systemd units and Kubernetes manifests", setup_lint},
    {"report", "a self-contained HTML page from bench, trace and run JSON", setup_report},
    {"history", "the stored bench runs (see bench --save)", setup_history},
    {"watch", "node agent: every service start on the host, measured with BPF, exported to Prometheus",
     setup_watch},
};

}  // namespace

std::span<const Command> commands() { return kCommands; }

CommandRunner not_implemented(CLI::App& sub) {
  sub.allow_extras();
  sub.prefix_command();
  std::string name = sub.get_name();
  return [name]() -> int { throw UserError(name + ": not implemented yet"); };
}

}  // namespace coldstart::cli
