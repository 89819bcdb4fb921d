// The flags every command that starts a target shares (bench, trace,
// prewarm record, run, and whatever launches next): declared once, parsed
// once, validated once, with the same one-line error for the same mistake in
// every command ("bad --FLAG 'VALUE': reason"). Command-specific durations
// and sizes (run's --timeout-start, ...) use the same parsers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "launch/launcher.h"

namespace CLI {
class App;
}

namespace coldstart::cli {

/// The shared flags as the user typed them; empty = not given.
struct LaunchFlags {
  std::string ready;
  std::string ready_timeout;
  std::vector<std::string> env;
  std::string cwd;
  std::string cpu_max;
  std::string memory_high;
  std::string memory_max;
};

/// What a command declares: its default readiness (for --help) and whether
/// it has its own name for the ready timeout (run: --timeout-start).
struct LaunchFlagSet {
  const char* default_ready = "exit";
  bool ready_timeout = true;
};

/// Adds --ready, --ready-timeout, --env, --cwd, --cpu-max, --memory-high and
/// --memory-max to `app`, storing the strings in `flags`.
void add_launch_flags(CLI::App& app, LaunchFlags& flags, const LaunchFlagSet& set = {});

/// Applies the flags that were given over `options` (what a unit file set
/// stays where no flag overrides it). Throws UserError "bad --FLAG 'VALUE':
/// reason" for any bad value.
void apply_launch_flags(const LaunchFlags& flags, launch::LaunchOptions& options);

/// A duration flag ("10s", "250ms", "1min 30s", bare seconds) in seconds,
/// above 0 unless `allow_zero`. Throws UserError naming `flag`.
Duration duration_flag(std::string_view flag, const std::string& text, bool allow_zero = false);

/// A size flag ("512M", "2G", bare bytes), above 0. Throws UserError naming `flag`.
uint64_t size_flag(std::string_view flag, const std::string& text);

/// A count flag (--runs, --warmup): a whole number from `min` to `max`.
/// Throws UserError naming `flag` ("bad --runs '-1': want a whole number from 1 to 1000000").
size_t count_flag(std::string_view flag, const std::string& text, size_t min, size_t max = 1000000);

/// Throws UserError "bad FLAG 'TEXT': REASON".
[[noreturn]] void throw_bad_flag(std::string_view flag, std::string_view text, std::string_view reason);

/// Runs `parse` and rethrows its UserError as "bad FLAG 'TEXT': <reason>":
/// libraries say what is wrong with a value, the CLI says where it came from.
template <typename Parse>
auto with_flag(std::string_view flag, const std::string& text, Parse&& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const UserError& e) {
    throw_bad_flag(flag, text, e.what());
  }
}

}  // namespace coldstart::cli
