// The --budget expressions (bench_budget.h). The limit is parsed with the
// duration syntax every flag takes (core/strings.h's parse_duration) but must
// carry a unit: a bare number would mean seconds here while --cpu-max reads
// µs. It is kept in nanoseconds; the statistics are seconds.
#include "report/bench_budget.h"

#include <algorithm>
#include <iterator>

#include "core/clock.h"
#include "core/error.h"
#include "core/strings.h"

namespace coldstart::report {

Budget Budget::parse(std::string_view text) {
  Budget b;
  b.text = std::string(text);
  size_t op = text.find('<');
  if (op == std::string_view::npos) {
    throw UserError("want STAT<DURATION, e.g. 'p95<20ms'");
  }
  b.stat = std::string(trim(text.substr(0, op)));
  std::string_view rest = text.substr(op + 1);
  if (rest.starts_with('=')) b.inclusive = true, rest.remove_prefix(1);
  static const char* kStats[] = {"median", "mean", "max", "min", "p90", "p95", "p99"};
  if (std::find(std::begin(kStats), std::end(kStats), b.stat) == std::end(kStats)) {
    throw UserError("unknown statistic '" + b.stat + "' (want median, mean, max, min, p90, p95 or p99)");
  }
  std::string_view limit_text = trim(rest);
  if (!limit_text.empty() && limit_text.find_first_not_of("0123456789.") == std::string_view::npos) {
    // A bare number would silently mean seconds here while --cpu-max reads µs.
    throw UserError("'" + std::string(limit_text) + "' has no unit (want us, ms, s or min, e.g. 20ms)");
  }
  auto limit = parse_duration(rest);
  if (!limit || *limit <= 0) throw UserError("'" + std::string(limit_text) + "' is not a duration");
  b.limit = std::chrono::nanoseconds(s_to_ns(*limit));
  return b;
}

double Budget::value(const RunStats& s) const {
  if (stat == "median") return s.median;
  if (stat == "mean") return s.mean;
  if (stat == "max") return s.max;
  if (stat == "min") return s.min;
  if (stat == "p90") return s.p90;
  if (stat == "p95") return s.p95;
  return s.p99;
}

bool Budget::holds(const RunStats& s) const {
  if (s.count == 0) return false;
  double v = value(s);
  const double limit_s = std::chrono::duration<double>(limit).count();
  return inclusive ? v <= limit_s : v < limit_s;
}

}  // namespace coldstart::report
