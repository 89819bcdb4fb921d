// What lint knows besides the files it reads: facts about the services'
// binaries (from the elf layer) and measured time-to-ready (from a bench
// JSON). Both come in through LintContext so tests can pass fakes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace coldstart::lint {

/// BinaryFacts are the start-up protocol hints of the program an ExecStart=
/// (or a script's "#!" chain) ends in: an ELF executable on disk.
struct BinaryFacts {
  std::string path;                  // the ELF the facts are read from
  /// The "#!" chain from the ExecStart= program to `path`, outermost first
  /// ("/usr/lib/apt/apt.systemd.daily"), with each script's "#!" line; empty
  /// when ExecStart= names the ELF itself.
  std::vector<std::pair<std::string, std::string>> scripts;
  bool speaks_notify = false;        // NOTIFY_SOCKET in it or in a needed library
  bool speaks_listen_fds = false;    // LISTEN_FDS likewise
  bool speaks_watchdog = false;      // WATCHDOG_USEC likewise
  /// A "READY=1" string in it or a needed library: what a program that
  /// calls sd_notify(0, "READY=1") carries (libsystemd itself has none).
  /// Linking libsystemd is not enough to say a program sends READY=1: all
  /// of systemd's tools need libsystemd-shared, few notify.
  bool sends_ready = false;
  /// Where each string was found: "has a NOTIFY_SOCKET string" or "needs
  /// libsystemd-shared-252.so, which has a NOTIFY_SOCKET string"; "" when absent.
  std::string notify_evidence, listen_fds_evidence, watchdog_evidence, ready_evidence;
  std::vector<std::string> needed;   // the DT_NEEDED names, for messages
  bool is_go = false;
  std::string go_version;  // "go1.19.8", "" if unknown
  bool is_script() const { return !scripts.empty(); }
  /// (major, minor) of go_version, nullopt if not Go or unparsable.
  std::optional<std::pair<int, int>> go_release() const;
};

/// Reads BinaryFacts of an absolute path, following "#!" lines (also
/// "/usr/bin/env [-S] NAME ...") to the interpreter. The error is why the
/// facts cannot be had, as a note can say it: "/usr/bin/x not found",
/// "/x is neither an ELF file nor a #! script", an ELF reader's error.
using BinaryProbe = std::function<Result<BinaryFacts>(const std::string& path)>;

/// The real probe (elf::read_elf, elf::has_string, elf::resolve_dependencies
/// as `inspect` resolves libraries), with the facts of each file read once
/// per probe object: lint asks about the same libc and libsystemd for every
/// unit of a directory.
BinaryProbe make_binary_probe();

/// How "#!" is read (Linux fs/binfmt_script.c): the interpreter path and the
/// optional single argument (the rest of the line, blanks trimmed).
struct Shebang {
  std::string interpreter;
  std::string argument;
};
/// nullopt unless `head` (the file's first bytes) starts with "#!" and names
/// an interpreter within the kernel's 256-byte buffer.
std::optional<Shebang> parse_shebang(std::string_view head);

/// For "#!/usr/bin/env ARG": the program env runs and its arguments. Without
/// "-S" env gets ARG as ONE word (Linux does not split it), so
/// "python3 -u" is looked up as a program of that name, as env does.
/// Options -i, -0, -u NAME, -C DIR, --, and NAME=VALUE words are skipped.
std::vector<std::string> env_command(std::string_view argument);

/// One benchmarked command of a bench JSON and its p99 time-to-ready.
struct MeasuredStart {
  std::string file;     // the --bench file it came from, for messages
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
