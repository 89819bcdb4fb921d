#include "cli/commands.h"

#include <CLI/CLI.hpp>

#include "core/error.h"

namespace coldstart::cli {
namespace {

// A subcommand whose issue has not landed yet: accepts anything, fails clearly.
template <const char* kName>
CommandRunner setup_not_implemented(CLI::App& sub) {
  sub.allow_extras();
  sub.prefix_command();
  return [] () -> int { throw UserError(std::string(kName) + ": not implemented yet"); };
}

constexpr char kBench[] = "bench";
constexpr char kTrace[] = "trace";
constexpr char kPrewarm[] = "prewarm";
constexpr char kRun[] = "run";
constexpr char kLint[] = "lint";
constexpr char kReport[] = "report";

constexpr Command kCommands[] = {
    {"inspect", "what in a binary costs start time: PIE, loader, libraries, relocations, Go build info",
     setup_inspect},
    {"bench", "time-to-ready over many launches, cold or warm, limited or not, compared",
     setup_not_implemented<kBench>},
    {"trace", "one launch explained phase by phase: loader, runtime init, app init, waits",
     setup_not_implemented<kTrace>},
    {"prewarm", "record the pages a start needs; load, evict or show them",
     setup_not_implemented<kPrewarm>},
    {"run", "supervise a service with systemd's start-up semantics, socket activation and boost",
     setup_not_implemented<kRun>},
    {"lint", "start-up mistakes in systemd units and Kubernetes manifests",
     setup_not_implemented<kLint>},
    {"report", "a self-contained HTML page from bench, trace and run JSON",
     setup_not_implemented<kReport>},
};

}  // namespace

std::span<const Command> commands() { return kCommands; }

}  // namespace coldstart::cli
