#include "core/strings.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/error.h"

namespace coldstart {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.starts_with(prefix); }
bool ends_with(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::vector<std::string> shell_split(std::string_view command) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(cur)), cur.clear(), in_word = false;
    } else if (c == '\'') {
      size_t end = command.find('\'', i + 1);
      if (end == std::string_view::npos) throw UserError(fmt::format("unterminated ' in command: {}", command));
      cur.append(command.substr(i + 1, end - i - 1));
      i = end;
      in_word = true;
    } else if (c == '"') {
      ++i;
      for (; i < command.size() && command[i] != '"'; ++i) {
        if (command[i] == '\\' && i + 1 < command.size() &&
            std::string_view("\"\\$`").find(command[i + 1]) != std::string_view::npos) {
          ++i;
        }
        cur.push_back(command[i]);
      }
      if (i >= command.size()) throw UserError(fmt::format("unterminated \" in command: {}", command));
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 < command.size()) cur.push_back(command[++i]);
      in_word = true;
    } else {
      cur.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

namespace {

// Splits "1.5ms" into 1.5 and "ms".
std::optional<std::pair<double, std::string_view>> number_and_unit(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, v);
  if (ec != std::errc() || ptr != text.data() + i || !std::isfinite(v)) return std::nullopt;
  return std::make_pair(v, trim(text.substr(i)));
}

}  // namespace

namespace {

// Seconds per unit of one duration term; nullopt for an unknown unit.
std::optional<double> duration_unit_scale(std::string_view unit) {
  if (unit.empty() || unit == "s" || unit == "sec" || unit == "second" || unit == "seconds") return 1;
  if (unit == "ms" || unit == "msec") return 1e-3;
  if (unit == "us" || unit == "µs" || unit == "usec") return 1e-6;
  if (unit == "ns" || unit == "nsec") return 1e-9;
  if (unit == "m" || unit == "min" || unit == "minute" || unit == "minutes") return 60;
  if (unit == "h" || unit == "hr" || unit == "hour" || unit == "hours") return 3600;
  return std::nullopt;
}

bool is_number_char(char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; }

}  // namespace

std::optional<double> parse_duration(std::string_view text) {
  // One or more terms, each a number and a unit ("1min 30s", "1h30m",
  // "250ms"); whitespace between terms is optional, as in systemd.time(7).
  text = trim(text);
  if (text.empty()) return std::nullopt;
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t start = i;
    while (i < text.size() && is_number_char(text[i])) ++i;
    size_t number_end = i;
    while (i < text.size() && text[i] == ' ') ++i;  // "1.5 s"
    while (i < text.size() && text[i] != ' ' && !is_number_char(text[i])) ++i;
    auto nu = number_and_unit(text.substr(start, i - start));
    if (!nu || number_end == start) return std::nullopt;
    auto scale = duration_unit_scale(nu->second);
    if (!scale) return std::nullopt;
    total += nu->first * *scale;
  }
  if (!std::isfinite(total)) return std::nullopt;
  return total;
}

std::optional<uint64_t> parse_size(std::string_view text) {
  auto nu = number_and_unit(text);
  if (!nu) return std::nullopt;
  auto [v, unit] = *nu;
  std::string u(unit);
  if (u.ends_with("iB")) u.resize(u.size() - 2);
  else if (u.size() > 1 && u.ends_with("B")) u.resize(u.size() - 1);
  double scale;
  if (u.empty() || u == "B") scale = 1;
  else if (u == "K" || u == "k") scale = 1024.0;
  else if (u == "M") scale = 1024.0 * 1024;
  else if (u == "G") scale = 1024.0 * 1024 * 1024;
  else if (u == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  else return std::nullopt;
  double bytes = v * scale;
  if (bytes >= 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::string format_duration(double seconds) {
  double a = std::fabs(seconds);
  if (a < 1e-3) return fmt::format("{:.1f} µs", seconds * 1e6);
  if (a < 1) return fmt::format("{:.3f} ms", seconds * 1e3);
  return fmt::format("{:.3f} s", seconds);
}

std::string format_duration(std::chrono::nanoseconds d) { return format_duration(to_seconds(d)); }

std::string format_bytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double v = static_cast<double>(bytes) / 1024;
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  while (v >= 1024 && i < 3) v /= 1024, ++i;
  return fmt::format("{:.1f} {}", v, units[i]);
}

std::string format_percent(uint64_t part, uint64_t whole, std::string_view if_no_whole) {
  if (whole == 0) return std::string(if_no_whole);
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

std::string format_count(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  int k = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (k && k % 3 == 0) out.push_back(',');
    out.push_back(*it);
    ++k;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

namespace {

std::string format_utc(double unix_time, const char* format) {
  time_t t = static_cast<time_t>(unix_time);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string format_utc_seconds(double unix_time) { return format_utc(unix_time, "%Y-%m-%d %H:%M:%S"); }
std::string format_utc_minutes(double unix_time) { return format_utc(unix_time, "%Y-%m-%d %H:%M"); }

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace coldstart
