// Parser of GODEBUG=inittrace=1 / gctrace=1 lines. The runtime's format
// (runtime/proc.go, doInit): "init %s @%s ms, %s ms clock, %d bytes, %d allocs".
// gctrace lines start "gc <n> @<seconds>s". Anything else is skipped, so the
// service's own stderr can be interleaved freely.
#include "trace/go_inittrace.h"

#include <charconv>
#include <cstdlib>

#include "core/strings.h"

namespace coldstart::trace {
namespace {

// Consumes `prefix` from the front of `s`.
bool eat(std::string_view& s, std::string_view prefix) {
  if (!starts_with(s, prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// Reads a non-negative decimal number ("0.012") from the front of `s`.
bool number(std::string_view& s, double& out) {
  size_t n = 0;
  while (n < s.size() && ((s[n] >= '0' && s[n] <= '9') || s[n] == '.')) ++n;
  if (n == 0 || n > 32) return false;
  std::string digits(s.substr(0, n));
  char* end = nullptr;
  out = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size()) return false;
  s.remove_prefix(n);
  return true;
}

bool integer(std::string_view& s, uint64_t& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || ptr == s.data()) return false;
  s.remove_prefix(static_cast<size_t>(ptr - s.data()));
  return true;
}

bool parse_init(std::string_view s, GoPackageInit& out) {
  if (!eat(s, "init ")) return false;
  size_t space = s.find(' ');
  if (space == 0 || space == std::string_view::npos) return false;
  out.package = std::string(s.substr(0, space));
  s.remove_prefix(space);
  double start_ms = 0, clock_ms = 0;
  if (!eat(s, " @") || !number(s, start_ms) || !eat(s, " ms, ") || !number(s, clock_ms) ||
      !eat(s, " ms clock, ") || !integer(s, out.bytes) || !eat(s, " bytes, ") || !integer(s, out.allocs) ||
      !eat(s, " allocs"))
    return false;
  out.start_s = start_ms / 1000;
  out.clock_s = clock_ms / 1000;
  return true;
}

}  // namespace

double GoInitReport::total_init_s() const {
  double sum = 0;
  for (const auto& i : inits) sum += i.clock_s;
  return sum;
}

GoInitReport parse_go_inittrace(std::string_view text) {
  GoInitReport report;
  for (const std::string& raw : split(text, '\n')) {
    std::string_view line = trim(raw);
    GoPackageInit init;
    if (parse_init(line, init)) {
      report.inits.push_back(std::move(init));
      continue;
    }
    uint64_t n = 0;
    if (eat(line, "gc ") && integer(line, n) && eat(line, " @")) ++report.gc_cycles;
  }
  return report;
}

std::string godebug_with_inittrace(std::string_view existing) {
  std::string value(existing);
  if (!value.empty()) value += ",";
  return value + "inittrace=1,gctrace=1";
}

}  // namespace coldstart::trace
