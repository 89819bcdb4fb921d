// `coldstart prewarm record`: its options and runner (prewarm_record.cc).
#pragma once

#include "cli/commands.h"

namespace coldstart::cli {

/// Adds the `record` subcommand to `prewarm` and returns what runs it.
CommandRunner setup_prewarm_record(CLI::App& prewarm);

}  // namespace coldstart::cli
