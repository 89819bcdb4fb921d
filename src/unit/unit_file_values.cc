// Value grammars of systemd settings, line by line after systemd v252's C
// code so that what we accept is what systemd accepts (tests compare against
// `systemd-analyze timespan` and systemd's own unit loading where it runs):
//
//  * parse_time: tokens "<number>[.<digits>]<unit>" separated by optional
//    blanks and summed; a bare number uses the default unit; "infinity" alone;
//    a leading '-' is ERANGE; ".5s" is valid (strtoll reads nothing, the
//    fraction is still taken); units are matched as prefixes in systemd's
//    table order ("ms" before "m", "M" is a month).
//  * parse_size: like parse_time, but units must strictly descend
//    ("1G 512M" is fine, "512M 1G" and "512MB" are not).
//  * parse_permyriad: "<int>[.<d>[<d>]]%", "<int>[.<d>]‰", "<int>‱"; the
//    integer part goes through strtol with base 0, so "010%" is 8%.
//  * extract_first_word(UNQUOTE|CUNESCAPE): quotes open and close anywhere in
//    a word; backslash escapes are decoded inside quotes too.
#include "unit/unit_file_values.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <optional>

#include <fmt/format.h>

namespace coldstart::unit {
namespace {

constexpr std::string_view kWhitespace = " \t\n\r";
constexpr uint64_t kUsecPerMinute = 60 * kUsecPerSec;
constexpr uint64_t kUsecPerHour = 60 * kUsecPerMinute;
constexpr uint64_t kUsecPerDay = 24 * kUsecPerHour;
constexpr uint64_t kUsecPerWeek = 7 * kUsecPerDay;
constexpr uint64_t kUsecPerMonth = 2629800 * kUsecPerSec;  // 30.44 days
constexpr uint64_t kUsecPerYear = 31557600 * kUsecPerSec;  // 365.25 days

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && kWhitespace.find(s[i]) != std::string_view::npos) ++i;
  return i;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// strtoull/strtoll on a bounded view: optional '+', decimal digits. Returns
// the end offset (== start when nothing was read) and sets `overflow`.
size_t read_decimal(std::string_view s, size_t i, uint64_t& value, bool& overflow) {
  size_t start = i;
  if (i < s.size() && s[i] == '+') ++i;
  size_t digits = i;
  value = 0;
  overflow = false;
  while (i < s.size() && is_digit(s[i])) {
    if (value > (UINT64_MAX - 9) / 10) overflow = true;
    value = value * 10 + static_cast<uint64_t>(s[i] - '0');
    ++i;
  }
  return i == digits ? start : i;
}

struct Unit {
  std::string_view suffix;
  uint64_t usec;
};

// time-util.c extract_multiplier(), in its order: prefixes are tried first-match.
constexpr Unit kTimeUnits[] = {
    {"seconds", kUsecPerSec}, {"second", kUsecPerSec},   {"sec", kUsecPerSec},     {"s", kUsecPerSec},
    {"minutes", kUsecPerMinute}, {"minute", kUsecPerMinute}, {"min", kUsecPerMinute},
    {"months", kUsecPerMonth}, {"month", kUsecPerMonth},  {"M", kUsecPerMonth},     {"msec", 1000},
    {"ms", 1000},              {"m", kUsecPerMinute},     {"hours", kUsecPerHour},  {"hour", kUsecPerHour},
    {"hr", kUsecPerHour},      {"h", kUsecPerHour},       {"days", kUsecPerDay},    {"day", kUsecPerDay},
    {"d", kUsecPerDay},        {"weeks", kUsecPerWeek},   {"week", kUsecPerWeek},   {"w", kUsecPerWeek},
    {"years", kUsecPerYear},   {"year", kUsecPerYear},    {"y", kUsecPerYear},      {"usec", 1},
    {"us", 1},                 {"\xCE\xBCs", 1},          {"\xC2\xB5s", 1},
};

}  // namespace

Result<uint64_t> parse_timespan(std::string_view t, uint64_t default_unit) {
  auto bad = [&](std::string_view why) { return unexpected(fmt::format("invalid time span '{}': {}", t, why)); };
  size_t p = skip_ws(t, 0);
  if (t.substr(p).starts_with("infinity")) {
    if (skip_ws(t, p + 8) != t.size()) return bad("text after 'infinity'");
    return kUsecInfinity;
  }
  uint64_t usec = 0;
  bool something = false;
  for (;;) {
    p = skip_ws(t, p);
    if (p == t.size()) {
      if (!something) return bad("empty");
      break;
    }
    if (t[p] == '-') return bad("negative");
    uint64_t l;
    bool overflow;
    size_t e = read_decimal(t, p, l, overflow);
    if (overflow || l > static_cast<uint64_t>(LLONG_MAX)) return bad("out of range");
    bool dot = e < t.size() && t[e] == '.';
    if (dot) {
      p = e + 1;
      while (p < t.size() && is_digit(t[p])) ++p;
    } else if (e == p) {
      return bad("expected a number");
    } else {
      p = e;
    }
    uint64_t multiplier = default_unit;
    size_t unit_at = skip_ws(t, p), s = unit_at;
    for (const Unit& u : kTimeUnits) {
      if (t.substr(unit_at).starts_with(u.suffix)) {
        multiplier = u.usec;
        s = unit_at + u.suffix.size();
        break;
      }
    }
    if (s == p && s != t.size()) return bad(fmt::format("unknown unit at '{}'", t.substr(s)));
    p = s;
    if (l >= kUsecInfinity / multiplier) return bad("out of range");
    uint64_t k = l * multiplier;
    if (k >= kUsecInfinity - usec) return bad("out of range");
    usec += k;
    something = true;
    if (dot) {
      uint64_t m = multiplier / 10;
      size_t b = e + 1;
      for (; b < t.size() && is_digit(t[b]); ++b, m /= 10) {
        k = static_cast<uint64_t>(t[b] - '0') * m;
        if (k >= kUsecInfinity - usec) return bad("out of range");
        usec += k;
      }
      if (b == e + 1) return bad("no digits after '.'");
    }
  }
  return usec;
}

std::string format_timespan(uint64_t t) {
  // time-util.c format_timespan() with accuracy 1 µs.
  static constexpr Unit table[] = {{"y", kUsecPerYear},  {"month", kUsecPerMonth}, {"w", kUsecPerWeek},
                                   {"d", kUsecPerDay},   {"h", kUsecPerHour},      {"min", kUsecPerMinute},
                                   {"s", kUsecPerSec},   {"ms", 1000},             {"us", 1}};
  if (t == kUsecInfinity) return "infinity";
  if (t == 0) return "0";
  std::string out;
  for (const Unit& u : table) {
    if (t == 0) break;
    if (t < u.usec) continue;
    uint64_t a = t / u.usec, b = t % u.usec;
    std::string sep = out.empty() ? "" : " ";
    if (t < kUsecPerMinute && b > 0) {
      int j = 0;
      for (uint64_t cc = u.usec; cc > 1; cc /= 10) ++j;
      if (j > 0) {
        out += fmt::format("{}{}.{:0{}}{}", sep, a, b, j, u.suffix);
        break;
      }
    }
    out += fmt::format("{}{}{}", sep, a, u.suffix);
    t = b;
  }
  return out;
}

Result<uint64_t> parse_iec_size(std::string_view t) {
  static constexpr Unit table[] = {
      {"E", 1ULL << 60}, {"P", 1ULL << 50}, {"T", 1ULL << 40}, {"G", 1ULL << 30},
      {"M", 1ULL << 20}, {"K", 1ULL << 10}, {"B", 1},          {"", 1},
  };
  constexpr size_t n = std::size(table);
  auto bad = [&](std::string_view why) { return unexpected(fmt::format("invalid size '{}': {}", t, why)); };
  uint64_t r = 0;
  size_t p = 0, start_pos = 0;
  do {
    p = skip_ws(t, p);
    if (p < t.size() && t[p] == '-') return bad("negative");
    uint64_t l;
    bool overflow;
    size_t e = read_decimal(t, p, l, overflow);
    if (overflow) return bad("out of range");
    if (e == p) return bad("expected a number");
    double frac = 0;
    if (e < t.size() && t[e] == '.') {
      ++e;
      if (e < t.size() && is_digit(t[e])) {
        uint64_t l2;
        size_t e2 = read_decimal(t, e, l2, overflow);
        if (overflow) return bad("out of range");
        frac = static_cast<double>(l2);
        for (; e < e2; ++e) frac /= 10;
      }
    }
    e = skip_ws(t, e);
    size_t i = start_pos;
    for (; i < n; ++i)
      if (t.substr(e).starts_with(table[i].suffix)) break;
    if (i >= n) return bad(fmt::format("unexpected '{}' (units K, M, G, T, P, E in descending order)", t.substr(e)));
    if (l + (frac > 0) > UINT64_MAX / table[i].usec) return bad("out of range");
    uint64_t tmp = l * table[i].usec + static_cast<uint64_t>(frac * static_cast<double>(table[i].usec));
    if (tmp > UINT64_MAX - r) return bad("out of range");
    r += tmp;
    p = e + table[i].suffix.size();
    start_pos = i + 1;
  } while (p < t.size());
  return r;
}

namespace {

// safe_atoi(): strtol with base 0 (0x.. hex, 0.. octal) plus 0b/0o prefixes.
std::optional<long> safe_atoi(std::string_view s) {
  std::string str(s);
  const char* c = str.c_str();
  int base = 0;
  if (str.starts_with("0b") || str.starts_with("0B")) base = 2, c += 2;
  else if (str.starts_with("0o") || str.starts_with("0O")) base = 8, c += 2;
  errno = 0;
  char* x = nullptr;
  long l = std::strtol(c, &x, base);
  if (errno != 0 || x == c || *x != 0 || l < INT_MIN || l > INT_MAX) return std::nullopt;
  return l;
}

// parse_parts_value_with_{hundredths,tenths}_place / _whole.
std::optional<long> parse_parts(std::string_view p, std::string_view symbol, int decimals) {
  std::string_view body = p.substr(0, p.size() - symbol.size());
  long q = 0;
  size_t dot = body.find('.');
  if (dot != std::string_view::npos) {
    std::string_view f = body.substr(dot + 1);
    if (decimals == 0 || f.empty() || f.size() > static_cast<size_t>(decimals)) return std::nullopt;
    for (char c : f) {
      if (!is_digit(c)) return std::nullopt;
      q = q * 10 + (c - '0');
    }
    for (size_t i = f.size(); i < static_cast<size_t>(decimals); ++i) q *= 10;
    body = body.substr(0, dot);
  }
  auto v = safe_atoi(body);
  if (!v || *v < 0) return std::nullopt;
  long scale = decimals == 2 ? 100 : decimals == 1 ? 10 : 1;
  if (*v > (INT_MAX - q) / scale) return std::nullopt;
  return *v * scale + q;
}

}  // namespace

Result<uint32_t> parse_permyriad(std::string_view text, bool bounded) {
  std::optional<long> r;
  if (text.ends_with("\xE2\x80\xB1")) r = parse_parts(text, "\xE2\x80\xB1", 0);       // ‱
  else if (text.ends_with("\xE2\x80\xB0")) r = parse_parts(text, "\xE2\x80\xB0", 1);  // ‰
  else if (text.ends_with("%")) r = parse_parts(text, "%", 2);
  if (!r) return unexpected(fmt::format("invalid percentage '{}'", text));
  if (bounded && *r > 10000) return unexpected(fmt::format("percentage '{}' above 100%", text));
  return static_cast<uint32_t>(*r);
}

Result<bool> parse_boolean(std::string_view text) {
  std::string v(text);
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* y : {"1", "yes", "y", "true", "t", "on"})
    if (v == y) return true;
  for (const char* n : {"0", "no", "n", "false", "f", "off"})
    if (v == n) return false;
  return unexpected(fmt::format("invalid boolean '{}'", text));
}

Result<MemoryLimit> parse_memory_limit(std::string_view key, std::string_view text, uint64_t physical_memory) {
  bool zero_ok = key == "MemorySwapMax" || key == "MemoryLow" || key == "MemoryMin" ||
                 key == "DefaultMemoryLow" || key == "DefaultMemoryMin" || key == "MemoryZSwapMax";
  MemoryLimit m;
  if (text.empty() && (key == "MemoryLow" || key == "MemoryMin")) {
    m.unlimited = false;
    return m;
  }
  if (text.empty() || text == "infinity") return m;
  m.unlimited = false;
  if (auto pm = parse_permyriad(text, true)) {
    m.from_percent = true;
    m.permyriad = *pm;
    long page = ::sysconf(_SC_PAGESIZE);
    uint64_t ps = page > 0 ? static_cast<uint64_t>(page) : 4096;
    unsigned __int128 pages = static_cast<unsigned __int128>(physical_memory / ps) * *pm / 10000;
    m.bytes = static_cast<uint64_t>(pages) * ps;
  } else {
    auto b = parse_iec_size(text);
    if (!b) return unexpected(fmt::format("invalid memory limit '{}'", text));
    m.bytes = *b;
  }
  if (m.bytes == UINT64_MAX || (m.bytes == 0 && !zero_ok))
    return unexpected(fmt::format("memory limit '{}' out of range", text));
  return m;
}

Result<uint64_t> parse_cpu_quota(std::string_view text) {
  if (text.empty()) return kUsecInfinity;
  auto r = parse_permyriad(text, false);
  if (!r || *r == 0) return unexpected(fmt::format("invalid CPU quota '{}'", text));
  return static_cast<uint64_t>(*r) * kUsecPerSec / 10000;
}

}  // namespace coldstart::unit
