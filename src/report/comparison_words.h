// The one wording of a comparison of two start-up time samples, used by every
// printer (bench's text and markdown, the HTML report, bench --baseline,
// history): the verdict, the factor and its interval always point the same
// way, and "faster"/"slower" is said only when the data support it.
#pragma once

#include <optional>
#include <string>

namespace coldstart::report {

/// Which way a comparison goes, once significance is decided.
enum class Verdict { kNoDifference, kSlower, kFaster };

/// ComparisonWords is a comparison of a candidate with a baseline, put in
/// words; built by compare_words() from the ratio of medians (candidate /
/// baseline), its 95% interval and the p-value.
struct ComparisonWords {
  Verdict verdict = Verdict::kNoDifference;
  /// The factor as said: for kFaster the speed-up (1 / ratio) and its interval
  /// inverted, so that low <= factor <= high read the same way as the verdict;
  /// otherwise the ratio and its interval as given.
  double factor = 1;
  std::optional<double> low, high;
  std::optional<double> p_value;
  std::string verdict_text;  ///< "1.42× slower", "1.20× faster", "no significant difference (1.02×)"
  std::string detail;        ///< "95% CI 1.30×–1.55×, p < 0.001" (what is known)
  /// verdict_text + " (" + detail + ")".
  std::string text() const;
  const char* css_class() const;  ///< "slower", "faster" or "same"
};

/// Words for `ratio` = median(candidate) / median(baseline). "faster" or
/// "slower" only when the interval excludes 1 AND p < 0.05 (each required
/// when given; with neither there is no verdict); otherwise "no significant
/// difference".
ComparisonWords compare_words(double ratio, std::optional<double> ci_low, std::optional<double> ci_high,
                              std::optional<double> p_value);

/// "CANDIDATE is 1.42× slower than BASELINE (95% CI …, p …)" or
/// "CANDIDATE vs BASELINE: no significant difference (1.02×) (95% CI …, p …)".
std::string comparison_sentence(const std::string& candidate, const std::string& baseline,
                                const ComparisonWords& words);

/// "p < 0.001" or "p = 0.042".
std::string p_text(double p);

}  // namespace coldstart::report
