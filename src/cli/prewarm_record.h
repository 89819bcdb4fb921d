// `coldstart prewarm record`: its options and runner (prewarm_record.cc).
#pragma once

#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/launch_flags.h"

namespace coldstart::cli {

/// "coldstart: warning: LINE" on stderr (the prewarm subcommands' warnings).
void prewarm_warning(const std::string& line);

/// `prewarm record --image` (prewarm_record_image.cc).
int record_image(const std::string& image, const std::vector<std::string>& command, const LaunchFlags& flags,
                 const std::string& output);

/// Adds the `record` subcommand to `prewarm` and returns what runs it.
CommandRunner setup_prewarm_record(CLI::App& prewarm);

}  // namespace coldstart::cli
