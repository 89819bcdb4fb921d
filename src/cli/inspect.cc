#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"

namespace coldstart::cli {

CommandRunner setup_inspect(CLI::App& sub) {
  sub.allow_extras();
  return []() -> int { throw UserError("inspect: not implemented yet"); };
}

}  // namespace coldstart::cli
