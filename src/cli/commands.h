// The table of subcommands (ninja's Tool table). main.cc walks it to build the
// CLI11 parser and dispatches to the chosen entry; nothing else lives in main.
#pragma once

#include <functional>
#include <span>

namespace CLI {
class App;
}

namespace coldstart::cli {

/// Runs a parsed subcommand and returns the process exit code (design.md:
/// 0 ok, 1 a budget/check failed, 2 usage/input error — the latter normally
/// thrown as UserError instead).
using CommandRunner = std::function<int()>;

/// One subcommand: its name, a one-line summary, and the function that adds
/// its options to `sub` and returns what runs it once parsing succeeded.
struct Command {
  const char* name;
  const char* summary;
  CommandRunner (*setup)(CLI::App& sub);
};

std::span<const Command> commands();

// One per file in cli/ (<name>.cc).
CommandRunner setup_inspect(CLI::App& sub);
CommandRunner setup_bench(CLI::App& sub);
CommandRunner setup_trace(CLI::App& sub);
CommandRunner setup_prewarm(CLI::App& sub);
CommandRunner setup_run(CLI::App& sub);
CommandRunner setup_lint(CLI::App& sub);
CommandRunner setup_report(CLI::App& sub);
CommandRunner setup_history(CLI::App& sub);
CommandRunner setup_watch(CLI::App& sub);

/// For a subcommand whose issue has not landed: accepts anything, fails clearly.
CommandRunner not_implemented(CLI::App& sub);

}  // namespace coldstart::cli
