// What lint knows besides the files it reads: facts about the services'
// binaries (from the elf layer) and measured time-to-ready (from a bench
// JSON). Both come in through LintContext so tests can pass fakes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace coldstart::lint {

/// BinaryFacts are the start-up protocol hints of one executable on disk.
struct BinaryFacts {
  std::string path;
  bool speaks_notify = false;     // NOTIFY_SOCKET string, or links libsystemd
  bool speaks_listen_fds = false;  // LISTEN_FDS string, or links libsystemd
  bool speaks_watchdog = false;   // WATCHDOG_USEC string, or links libsystemd
  bool links_libsystemd = false;
  bool is_go = false;
  std::string go_version;  // "go1.19.8", "" if unknown
  /// (major, minor) of go_version, nullopt if not Go or unparsable.
  std::optional<std::pair<int, int>> go_release() const;
};

/// Reads BinaryFacts of an absolute path; nullopt if there is no such file.
/// Throws UserError for a file that exists but is not a readable ELF.
using BinaryProbe = std::function<std::optional<BinaryFacts>(const std::string& path)>;

/// The real probe: elf::read_elf, elf::has_string, elf::resolve_libraries.
std::optional<BinaryFacts> probe_binary(const std::string& path);

/// One benchmarked command of a bench JSON and its p99 time-to-ready.
struct MeasuredStart {
  std::string command;  // as bench ran it
  std::string program;  // base name of its first word
  double p99 = 0;       // seconds; the file's "p99" or computed from times[]
  size_t runs = 0;
};

/// Reads coldstart bench's --export-json (a superset of hyperfine's:
/// results[] {command, times[], optional p99}). Throws UserError naming the
/// file for unreadable JSON or a result without command/times.
std::vector<MeasuredStart> read_bench_results(const std::string& path);

/// The measurement for a service whose program is `program_path`: the result
/// whose first word has the same base name, or the only result; nullopt else.
std::optional<MeasuredStart> measured_start_for(const std::vector<MeasuredStart>& results,
                                                const std::string& program_path);

/// p99 (linear interpolation between order statistics, numpy's default).
double p99_of(std::vector<double> times);

}  // namespace coldstart::lint
