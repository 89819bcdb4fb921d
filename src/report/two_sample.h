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

#include <optional>
#include <string>

namespace coldstart::report {

/// The comparison in words: "1.42× slower" / "1.20× faster" / "no significant
/// difference (1.02×)" followed by "(95% CI 1.30×–1.55×, p < 0.001)" for what is known.
/// Significance is p < 0.05 when a p-value is given, else a CI that excludes 1.
std::string ratio_words(double ratio, std::optional<double> ci_low, std::optional<double> ci_high,
                        std::optional<double> p_value);

/// "p < 0.001" or "p = 0.042".
std::string p_text(double p);

}  // namespace coldstart::report
