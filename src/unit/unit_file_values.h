// The value grammars of systemd unit settings, implemented to accept and
// reject exactly what systemd v252 does (src/basic/time-util.c parse_time,
// parse-util.c parse_size / parse_permyriad / parse_boolean,
// extract-word.c extract_first_word, escape.c cunescape_one, and
// load-fragment.c for ExecStart=, Environment=, CPUQuota=, MemoryMax=).
// Every function returns a Result whose error text says what is wrong with
// the value; callers add the position (UnitEntry::pos_at).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace coldstart::unit {

inline constexpr uint64_t kUsecInfinity = UINT64_MAX;
inline constexpr uint64_t kUsecPerSec = 1000000;

/// systemd.time(7) time span: "1min 30s", "1.5h", "90" (seconds, or
/// `default_unit` µs per bare number), "infinity". Units: us/usec/µs, ms/msec,
/// s/sec/second(s), m/min/minute(s), h/hr/hour(s), d/day(s), w/week(s),
/// M/month(s) (30.44 d), y/year(s) (365.25 d). Returns microseconds;
/// kUsecInfinity for "infinity".
Result<uint64_t> parse_timespan(std::string_view text, uint64_t default_unit = kUsecPerSec);

/// A time span as systemd prints it ("1min 30s", "250ms", "infinity").
std::string format_timespan(uint64_t usec);

/// parse_size(t, 1024): "512M", "1.5G", "1G 512M" (descending units), "4096".
/// Suffixes K M G T P E (powers of 1024) and B; "512MB" and "1k" are rejected.
Result<uint64_t> parse_iec_size(std::string_view text);

/// "50%", "12.5%" (two decimals at most), "125‰", "5000‱" -> parts per ten
/// thousand. `bounded` rejects more than 100%.
Result<uint32_t> parse_permyriad(std::string_view text, bool bounded = true);

/// yes/no/true/false/on/off/1/0/y/n/t/f, any case.
Result<bool> parse_boolean(std::string_view text);

/// MemoryMax=/MemoryHigh=/MemorySwapMax=...: bytes, a percentage of physical
/// memory, or no limit ("infinity" or empty).
struct MemoryLimit {
  bool unlimited = true;
  uint64_t bytes = 0;        // when !unlimited: bytes (percentages resolved)
  uint32_t permyriad = 0;    // when given as a percentage
  bool from_percent = false;
};
/// `physical_memory` resolves percentages (systemd uses the host's RAM).
Result<MemoryLimit> parse_memory_limit(std::string_view key, std::string_view text, uint64_t physical_memory);

/// CPUQuota=: "50%", "200%" (> 100% means several CPUs). Returns the CPU time
/// allowed per second of wall time in µs; kUsecInfinity for an empty value.
Result<uint64_t> parse_cpu_quota(std::string_view text);

/// One word of a value split like systemd's extract_first_word with
/// EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, and where it starts in the value.
struct Word {
  std::string text;
  size_t offset = 0;
};

/// Splits at blanks; '...' and "..." quote (also mid-word, as in a shell);
/// C escapes (\n \t \\ \" \' \s \xHH \uHHHH \UHHHHHHHH \ooo) are decoded in
/// and out of quotes. An unterminated quote, a trailing backslash or an
/// unknown escape is an error; `error_offset` (if given) gets its offset.
Result<std::vector<Word>> split_words(std::string_view value, size_t* error_offset = nullptr);

/// One command of ExecStart= (and ExecStartPre=, ExecStop=, ...).
struct ExecCommand {
  std::string path;                // first word (after the '@' form, argv[0] may differ)
  std::vector<std::string> argv;   // argv[0] first
  bool ignore_failure = false;     // '-' prefix
  bool no_env_expansion = false;   // ':' prefix
  bool privileged = false;         // '+', '!' or '!!' prefix
  size_t offset = 0;               // where the command starts in the value
};

/// Parses an Exec*= value: optional prefixes "-@:+!", the program, its
/// arguments; ";" alone separates commands, "\;" is a literal ';'. An empty
/// value yields no commands (it resets the list).
Result<std::vector<ExecCommand>> parse_exec(std::string_view value, size_t* error_offset = nullptr);

/// Where systemd finds a program named without a '/': its fixed search path
/// /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin (or "" if
/// none has it). Absolute paths are returned as they are.
std::string resolve_exec_path(const std::string& program);

/// systemd's env_name_is_valid(): [A-Za-z_][A-Za-z0-9_]*.
bool env_name_is_valid(std::string_view name);

/// Environment=: "A=1 'B=two words' C=\"x\"". Invalid assignments (no '=', a
/// bad name) are errors naming the offending word.
Result<std::vector<std::pair<std::string, std::string>>> parse_environment(std::string_view value,
                                                                          size_t* error_offset = nullptr);

/// Expands unit specifiers (systemd.unit(7)) that depend only on the unit
/// name and system paths: %% %n %N %p %P %i %I %j %J %f %t %S %C %L %E %T %V
/// %h (for the system manager, as root). Other letters systemd knows (host,
/// machine, boot IDs, ...) are left as they are; an unknown letter is an error.
Result<std::string> expand_specifiers(std::string_view text, const std::string& unit_name);

}  // namespace coldstart::unit
