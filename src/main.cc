// coldstart's entry point: builds the parser from the command table, parses,
// dispatches, and is the one place where a UserError becomes
// "coldstart: error: ..." and exit status 2.
#include <cstdio>
#include <algorithm>
#include <map>
#include <optional>
#include <vector>
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

// The closest of `names` to `word` within a small edit distance, or "".
std::string nearest(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  size_t best_distance = word.size() <= 4 ? 2 : 3;
  for (const auto& name : names) {
    size_t d = coldstart::edit_distance(word, name);
    if (d < best_distance) best_distance = d, best = name;
  }
  return best;
}

std::string did_you_mean(const std::string& best) { return best.empty() ? "" : " (did you mean '" + best + "'?)"; }

// "unknown command 'bnech' (did you mean 'bench'?)", before CLI11 sees it.
std::string unknown_command_message(const std::string& word) {
  std::vector<std::string> names;
  for (const auto& cmd : coldstart::cli::commands()) names.emplace_back(cmd.name);
  return "unknown command '" + word + "'" + did_you_mean(nearest(word, names)) + "; see coldstart --help";
}

// A command with subcommands of its own (prewarm record|apply|...): the same
// "did you mean" for its second word, before CLI11 says "A subcommand is required".
std::optional<std::string> unknown_subcommand(CLI::App& command, int argc, char** argv) {
  std::vector<std::string> names;
  for (CLI::App* sub : command.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
  if (names.empty() || argc < 3 || argv[2][0] == '-') return std::nullopt;
  std::string word = argv[2];
  if (std::find(names.begin(), names.end(), word) != names.end()) return std::nullopt;
  return "unknown " + command.get_name() + " subcommand '" + word + "'" + did_you_mean(nearest(word, names)) +
         "; want one of " + coldstart::join(names, ", ");
}

// After CLI11 refused the line: the first "--word" that `app` does not know,
// with the nearest option it does know ("--rnus" -> "--runs").
std::optional<std::string> unknown_option(const CLI::App& app, const std::string& where, int argc, char** argv) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app.get_options())
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (!arg.starts_with("--") || arg.size() < 3) continue;
    std::string name = arg.substr(0, arg.find('='));
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    return "unknown option '" + name + "' for '" + where + "'" + did_you_mean(nearest(name, names)) +
           "; see coldstart " + where + " --help";
  }
  return std::nullopt;
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
    if (auto bad = unknown_subcommand(*app.get_subcommand(argv[1]), argc, argv)) return fail(*bad);
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
    // The deepest command given ("prewarm apply") knows which options exist.
    const CLI::App* deepest = &app;
    std::string where;
    for (auto subs = app.get_subcommands(); !subs.empty(); subs = subs.front()->get_subcommands()) {
      deepest = subs.front();
      where += (where.empty() ? "" : " ") + deepest->get_name();
    }
    if (deepest != &app) {
      if (auto bad = unknown_option(*deepest, where, argc, argv)) return fail(*bad);
    }
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
