// `coldstart prewarm record`: its options and runner (prewarm_record.cc).
#pragma once

#include <string>

#include "cli/commands.h"

namespace coldstart::cli {

/// "coldstart: warning: LINE" on stderr (the prewarm subcommands' warnings).
void prewarm_warning(const std::string& line);

/// Adds the `record` subcommand to `prewarm` and returns what runs it.
CommandRunner setup_prewarm_record(CLI::App& prewarm);

}  // namespace coldstart::cli
