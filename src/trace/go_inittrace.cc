// Parser of GODEBUG=inittrace=1 / gctrace=1 lines. The runtime's format
// (runtime/proc.go, doInit): "init %s @%s ms, %s ms clock, %d bytes, %d allocs".
// gctrace lines start "gc <n> @<seconds>s". Anything else is skipped, so the
// service's own stderr can be interleaved freely.
#include "trace/go_inittrace.h"

#include <cstdint>
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

// "0.016+136+0.003 ms clock" and friends: `n` numbers separated by `seps`.
bool numbers(std::string_view& s, std::string_view seps, double* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!number(s, out[i])) return false;
    if (i + 1 < n && (s.empty() || s[0] != seps[i])) return false;
    if (i + 1 < n) s.remove_prefix(1);
  }
  return true;
}

constexpr uint64_t kMiB = 1024 * 1024;

}  // namespace

bool parse_gctrace_line(std::string_view line, GoGcCycle& g) {
  std::string_view s = trim(line);
  uint64_t pct = 0, procs = 0;
  double clock[3], cpu[5], heap[3], goal = 0;
  if (!eat(s, "gc ") || !integer(s, g.number) || !eat(s, " @") || !number(s, g.start_s) || !eat(s, "s ") ||
      !integer(s, pct) || !eat(s, "%: ") || !numbers(s, "++", clock, 3) || !eat(s, " ms clock, ") ||
      !numbers(s, "+//+", cpu, 5) || !eat(s, " ms cpu, ") || !numbers(s, "--", heap, 1))
    return false;
  // Heaps: "15->19->17 MB".
  if (!eat(s, "->") || !number(s, heap[1]) || !eat(s, "->") || !number(s, heap[2]) || !eat(s, " MB, ") ||
      !number(s, goal) || !eat(s, " MB goal"))
    return false;
  // Later fields changed across versions (stacks/globals since 1.18); the P count ends the line.
  size_t p = s.rfind(" P");
  size_t comma = s.rfind(", ", p);
  if (p != std::string_view::npos && comma != std::string_view::npos) {
    std::string_view ps = s.substr(comma + 2, p - comma - 2);
    if (integer(ps, procs) && ps.empty()) g.procs = static_cast<unsigned>(procs);
  }
  g.forced = s.find("(forced)") != std::string_view::npos;
  g.cpu_percent = static_cast<unsigned>(pct);
  g.sweep_term_s = clock[0] / 1e3, g.mark_s = clock[1] / 1e3, g.mark_term_s = clock[2] / 1e3;
  g.sweep_term_cpu_s = cpu[0] / 1e3, g.assist_cpu_s = cpu[1] / 1e3, g.background_cpu_s = cpu[2] / 1e3;
  g.idle_cpu_s = cpu[3] / 1e3, g.mark_term_cpu_s = cpu[4] / 1e3;
  // The line is the target's output: a huge "MB" figure must not overflow
  // the conversion (UB; found by fuzz_trace_go_inittrace).
  auto bytes = [](double mib) {
    double b = mib * kMiB;
    return !(b > 0) ? uint64_t{0} : b >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(b);
  };
  g.heap_start_bytes = bytes(heap[0]);
  g.heap_end_bytes = bytes(heap[1]);
  g.heap_live_bytes = bytes(heap[2]);
  g.heap_goal_bytes = bytes(goal);
  return true;
}

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
    GoGcCycle gc;
    if (parse_gctrace_line(line, gc)) report.gcs.push_back(gc);
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
