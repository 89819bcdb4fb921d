// Wording a ratio of medians.
//
// The ratio r = median(candidate) / median(baseline) has a 95% interval
// [lo, hi]. A candidate that is slower (r > 1) is said as "r× slower (lo–hi)";
// one that is faster as "(1/r)× faster (1/hi–1/lo)": the interval is mapped
// through the same 1/x as the estimate, so both read the same way (the old
// wording printed the speed-up with the interval of the slow-down). A verdict
// needs both tests to agree: the interval excludes 1 and p < 0.05 (the
// bootstrap interval and the rank test can disagree near the threshold).
#include "report/comparison_words.h"

#include <fmt/format.h>

namespace coldstart::report {

std::string p_text(double p) { return p < 0.001 ? "p < 0.001" : fmt::format("p = {:.3f}", p); }

ComparisonWords compare_words(double ratio, std::optional<double> ci_low, std::optional<double> ci_high,
                              std::optional<double> p_value) {
  ComparisonWords w;
  w.p_value = p_value;
  const bool has_ci = ci_low && ci_high;
  const bool ci_above = has_ci && *ci_low > 1, ci_below = has_ci && *ci_high < 1;
  const bool p_ok = !p_value || *p_value < 0.05;
  const bool ci_ok = !has_ci || ci_above || ci_below;
  const bool known = p_value || has_ci;
  if (known && p_ok && ci_ok) {
    // With an interval the direction is the interval's; without, the estimate's.
    bool slower = has_ci ? ci_above : ratio > 1;
    if (!has_ci && ratio == 1) slower = false;
    if (has_ci || ratio != 1) w.verdict = slower ? Verdict::kSlower : Verdict::kFaster;
  }
  if (w.verdict == Verdict::kFaster) {
    w.factor = 1 / ratio;
    if (has_ci) w.low = 1 / *ci_high, w.high = 1 / *ci_low;
    w.verdict_text = fmt::format("{:.2f}× faster", w.factor);
  } else {
    w.factor = ratio;
    if (has_ci) w.low = *ci_low, w.high = *ci_high;
    w.verdict_text = w.verdict == Verdict::kSlower ? fmt::format("{:.2f}× slower", ratio)
                                                   : fmt::format("no significant difference ({:.2f}×)", ratio);
  }
  if (w.low) w.detail = fmt::format("95% CI {:.2f}×–{:.2f}×", *w.low, *w.high);
  if (p_value) w.detail += (w.detail.empty() ? "" : ", ") + p_text(*p_value);
  return w;
}

std::string ComparisonWords::text() const { return detail.empty() ? verdict_text : verdict_text + " (" + detail + ")"; }

const char* ComparisonWords::css_class() const {
  switch (verdict) {
    case Verdict::kSlower: return "slower";
    case Verdict::kFaster: return "faster";
    default: return "same";
  }
}

std::string comparison_sentence(const std::string& candidate, const std::string& baseline,
                                const ComparisonWords& words) {
  if (words.verdict == Verdict::kNoDifference) return candidate + " vs " + baseline + ": " + words.text();
  std::string out = candidate + " is " + words.verdict_text + " than " + baseline;
  return words.detail.empty() ? out : out + " (" + words.detail + ")";
}

}  // namespace coldstart::report
