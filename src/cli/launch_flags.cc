#include "cli/launch_flags.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/strings.h"

namespace coldstart::cli {

void throw_bad_flag(std::string_view flag, std::string_view text, std::string_view reason) {
  throw UserError(fmt::format("bad {} '{}': {}", flag, text, reason));
}

Duration duration_flag(std::string_view flag, const std::string& text, bool allow_zero) {
  auto s = parse_duration(text);
  if (!s) throw_bad_flag(flag, text, "want a duration like 250ms, 10s, 1min 30s or bare seconds");
  if (*s <= 0 && !allow_zero) throw_bad_flag(flag, text, "want a duration above 0");
  return seconds(*s);
}

uint64_t size_flag(std::string_view flag, const std::string& text) {
  auto b = parse_size(text);
  if (!b) throw_bad_flag(flag, text, "want a size like 256M, 2G or bare bytes");
  if (*b == 0) throw_bad_flag(flag, text, "want a size above 0");
  return *b;
}

size_t count_flag(std::string_view flag, const std::string& text, size_t min, size_t max) {
  size_t n = 0;
  std::string_view t = trim(text);
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || n < min || n > max) {
    throw_bad_flag(flag, text, fmt::format("want a whole number from {} to {}", min, max));
  }
  return n;
}

void add_launch_flags(CLI::App& app, LaunchFlags& f, const LaunchFlagSet& set) {
  // A single-valued flag given twice takes the last value, as in most tools
  // (a wrapper script's defaults, then the user's own).
  app.add_option("--ready", f.ready,
                 fmt::format("readiness SPEC: exit, notify, tcp:HOST:PORT, listen, http:URL, log:REGEX (default {})",
                             set.default_ready))
      ->take_last();
  if (set.ready_timeout) {
    app.add_option("--ready-timeout", f.ready_timeout,
                   "give up on a launch after this long: 10s, 250ms, 1min 30s, bare seconds (default 10s)")
        ->take_last();
  }
  app.add_option("--env", f.env, "K=V added to the target's environment (repeatable)")->allow_extra_args(false);
  app.add_option("--cwd", f.cwd, "the target's working directory")->take_last();
  app.add_option("--cpu-max", f.cpu_max, "CPU limit QUOTA[/PERIOD]: 50ms/100ms, or bare µs like cgroup's cpu.max")
      ->take_last();
  app.add_option("--memory-high", f.memory_high, "memory limit (throttling; v1: soft limit), e.g. 256M")->take_last();
  app.add_option("--memory-max", f.memory_max, "memory limit (hard), e.g. 512M")->take_last();
}

void apply_launch_flags(const LaunchFlags& f, launch::LaunchOptions& o) {
  if (!f.ready.empty()) o.ready = with_flag("--ready", f.ready, [&] { return launch::ReadySpec::parse(f.ready); });
  if (!f.ready_timeout.empty()) o.ready_timeout = duration_flag("--ready-timeout", f.ready_timeout);
  for (const auto& kv : f.env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw_bad_flag("--env", kv, "want K=V");
    o.env.push_back(kv);
  }
  if (!f.cwd.empty()) {
    struct stat st {};
    if (::stat(f.cwd.c_str(), &st) != 0) throw_bad_flag("--cwd", f.cwd, std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) throw_bad_flag("--cwd", f.cwd, "not a directory");
    o.cwd = f.cwd;
  }
  if (!f.cpu_max.empty()) {
    o.limits.cpu_max = with_flag("--cpu-max", f.cpu_max, [&] { return launch::CpuMax::parse(f.cpu_max); });
  }
  if (!f.memory_high.empty()) o.limits.memory_high = size_flag("--memory-high", f.memory_high);
  if (!f.memory_max.empty()) o.limits.memory_max = size_flag("--memory-max", f.memory_max);
}

}  // namespace coldstart::cli
