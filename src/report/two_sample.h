// Two-sample statistics for comparing start-up times: is B slower than A, by
// how much, and how sure are we. Start-up times are skewed with long tails,
// so both are rank/resampling based and assume no distribution.
#pragma once

#include <span>

namespace coldstart::report {

/// The ratio of medians b/a with a 95% percentile-bootstrap interval.
struct RatioEstimate {
  double ratio = 1, low = 1, high = 1;
};

/// Two-sided p-value of the Mann-Whitney U test (normal approximation with
/// tie and continuity correction). 1 when either sample is empty.
double mann_whitney_p(std::span<const double> a, std::span<const double> b);

/// median(b)/median(a) and its 95% bootstrap interval (2000 resamples, fixed
/// seed so a report is reproducible). Requires: both non-empty, median(a) > 0.
RatioEstimate median_ratio(std::span<const double> a, std::span<const double> b);

}  // namespace coldstart::report

