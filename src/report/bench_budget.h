// bench's --budget gate: "STAT<DURATION" expressions over a command's
// RunStats (bench_results.h); a broken budget makes bench exit 1.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "report/bench_results.h"

namespace coldstart::report {

/// "--budget" expressions: STAT<DURATION with STAT one of median, mean, max,
/// min, p90, p95, p99 ("p95<20ms"; "<=" allowed).
struct Budget {
  std::string stat;
  std::chrono::nanoseconds limit{0};
  bool inclusive = false;
  std::string text;
  /// Throws UserError naming the bad part.
  static Budget parse(std::string_view text);
  /// The statistic's value for a command.
  double value(const RunStats& s) const;
  bool holds(const RunStats& s) const;
};

}  // namespace coldstart::report
