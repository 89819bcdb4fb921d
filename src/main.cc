// coldstart's entry point: builds the parser from the command table, parses,
// dispatches, and is the one place where a UserError becomes
// "coldstart: error: ..." and exit status 2.
#include <cstdio>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/strings.h"

namespace {

using coldstart::cli::CommandRunner;

int fail(const std::string& message) {
  std::fprintf(stderr, "coldstart: error: %s\n", message.c_str());
  return coldstart::kExitUsage;
}

// "unknown command 'bnech' (did you mean 'bench'?)", before CLI11 sees it.
std::string unknown_command_message(const std::string& word) {
  std::string best;
  size_t best_distance = 3;
  for (const auto& cmd : coldstart::cli::commands()) {
    size_t d = coldstart::edit_distance(word, cmd.name);
    if (d < best_distance) best_distance = d, best = cmd.name;
  }
  std::string msg = "unknown command '" + word + "'";
  if (!best.empty()) msg += " (did you mean '" + best + "'?)";
  return msg + "; see coldstart --help";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coldstart: measure, explain and shorten the cold start of services", "coldstart"};
  app.set_version_flag("--version", "coldstart 0.1.0");
  app.require_subcommand(1);
  std::map<std::string, CommandRunner> runners;
  try {
    for (const auto& cmd : coldstart::cli::commands()) {
      CLI::App* sub = app.add_subcommand(cmd.name, cmd.summary);
      runners[cmd.name] = cmd.setup(*sub);
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }

  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const auto& cmd : coldstart::cli::commands()) known = known || argv[1] == std::string(cmd.name);
    if (!known) return fail(unknown_command_message(argv[1]));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(e.what());
  }

  try {
    for (CLI::App* sub : app.get_subcommands()) return runners.at(sub->get_name())();
    return fail("no command given; see coldstart --help");
  } catch (const coldstart::UserError& e) {
    return fail(e.what());
  } catch (const std::bad_alloc&) {
    return fail("out of memory");
  } catch (const std::exception& e) {
    // Anything else is a bug of ours; still one line and exit 2, never a core dump.
    return fail(std::string("internal error: ") + e.what());
  }
}
