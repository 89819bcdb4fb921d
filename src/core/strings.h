// Small text helpers shared by every layer: splitting, trimming, shell-like
// word splitting (bench's COMMAND strings), and the human units of the
// command-line contract (durations in µs/ms/s, sizes in K/M/G).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coldstart {

std::vector<std::string> split(std::string_view s, char sep);
std::string_view trim(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
std::string join(const std::vector<std::string>& parts, std::string_view sep);

/// Splits a command line into words like a POSIX shell does for quoting
/// ('...', "...", backslash) without expansions. Throws UserError on an
/// unterminated quote.
std::vector<std::string> shell_split(std::string_view command);

/// Parses "250us", "20ms", "1.5s", "2m", "1h", "1min 30s" (terms add up, as in
/// systemd.time(7)), or a bare number of seconds.
/// Returns seconds, or nullopt if malformed or negative.
std::optional<double> parse_duration(std::string_view text);

/// Parses "512", "64K", "512M", "2G", "1.5G" (powers of 1024; optional trailing "B"/"iB").
std::optional<uint64_t> parse_size(std::string_view text);

/// Formats seconds for humans: "812 µs", "3.42 ms", "1.250 s".
std::string format_duration(double seconds);
std::string format_duration(std::chrono::nanoseconds d);

/// Formats bytes for humans: "812 B", "3.4 KiB", "12.0 MiB".
std::string format_bytes(uint64_t bytes);

/// 17571 -> "17,571".
std::string format_count(uint64_t n);

/// part/whole as "12.5%"; `if_no_whole` when whole is 0.
std::string format_percent(uint64_t part, uint64_t whole, std::string_view if_no_whole);

/// A Unix time as UTC: "2026-11-27 15:42:07" / "2026-11-27 15:42".
std::string format_utc_seconds(double unix_time);
std::string format_utc_minutes(double unix_time);

/// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace coldstart
