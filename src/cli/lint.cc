#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace coldstart::cli {

CommandRunner setup_lint(CLI::App& sub) { return not_implemented(sub); }

}  // namespace coldstart::cli
