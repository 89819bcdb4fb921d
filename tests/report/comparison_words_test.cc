// The one wording of a comparison (report/comparison_words.h): the reported
// cases of issue 16 item 7, and properties over random samples.
#include "report/comparison_words.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <vector>

#include "report/two_sample.h"

namespace coldstart::report {
namespace {

// Issue 16: "1.15× faster (95% CI 0.81×–0.92×, p < 0.001)": the speed-up was
// printed with the interval of the ratio.
TEST(ComparisonWords, FasterPrintsTheIntervalOfTheSpeedUp) {
  ComparisonWords w = compare_words(0.87, 0.81, 0.92, 0.0001);
  EXPECT_EQ(w.verdict, Verdict::kFaster);
  EXPECT_EQ(w.text(), "1.15× faster (95% CI 1.09×–1.23×, p < 0.001)");
}

// Issue 16: the CLI said "1.09× (1.01–1.14) faster, p = 0.064" while the
// report said "no significant difference": p >= 0.05 is no verdict anywhere.
TEST(ComparisonWords, NoVerdictUnlessIntervalAndPValueAgree) {
  EXPECT_EQ(compare_words(1.09, 1.01, 1.14, 0.064).text(),
            "no significant difference (1.09×) (95% CI 1.01×–1.14×, p = 0.064)");
  EXPECT_EQ(compare_words(1.09, 0.98, 1.14, 0.01).verdict, Verdict::kNoDifference);
  EXPECT_EQ(compare_words(1.09, 1.02, 1.14, 0.01).verdict, Verdict::kSlower);
  EXPECT_EQ(comparison_sentence("b", "a", compare_words(1.5, 1.4, 1.6, 0.0001)),
            "b is 1.50× slower than a (95% CI 1.40×–1.60×, p < 0.001)");
  EXPECT_EQ(comparison_sentence("b", "a", compare_words(1.0, 0.9, 1.1, 0.8)),
            "b vs a: no significant difference (1.00×) (95% CI 0.90×–1.10×, p = 0.800)");
}

double number_before(const std::string& text, const std::string& suffix) {
  std::smatch m;
  std::regex re("([0-9]+\\.[0-9]+)" + suffix);
  if (!std::regex_search(text, m, re)) return -1;
  return std::stod(m[1]);
}

// Over random samples of random shapes and shifts: the words agree with the
// numbers they came from, the estimate and the interval read the same way,
// and a verdict is given exactly when the interval excludes 1 and p < 0.05.
TEST(ComparisonWords, PropertiesOverRandomSamples) {
  std::mt19937_64 rng(16);
  std::lognormal_distribution<double> noise(0, 0.3);
  std::uniform_real_distribution<double> shift(0.7, 1.4);
  std::uniform_int_distribution<int> size(3, 40);
  int verdicts = 0, none = 0;
  for (int trial = 0; trial < 300; ++trial) {
    double k = shift(rng);
    std::vector<double> a(static_cast<size_t>(size(rng))), b(static_cast<size_t>(size(rng)));
    for (double& x : a) x = 0.01 * noise(rng);
    for (double& x : b) x = 0.01 * k * noise(rng);
    RatioEstimate r = median_ratio(a, b);
    double p = mann_whitney_p(a, b);
    ComparisonWords w = compare_words(r.ratio, r.low, r.high, p);
    std::string t = w.text();
    SCOPED_TRACE(t);
    bool excludes_one = r.low > 1 || r.high < 1;
    ASSERT_EQ(w.verdict != Verdict::kNoDifference, excludes_one && p < 0.05);
    ASSERT_TRUE(w.low && w.high);
    ASSERT_LE(*w.low, *w.high);
    switch (w.verdict) {
      case Verdict::kSlower:
        ++verdicts;
        ASSERT_GT(*w.low, 1);
        ASSERT_NE(t.find("× slower"), std::string::npos);
        ASSERT_NEAR(number_before(t, "× slower"), r.ratio, 0.006);
        break;
      case Verdict::kFaster:
        ++verdicts;
        ASSERT_GT(*w.low, 1);  // a speed-up above 1, all of its interval too
        ASSERT_NEAR(number_before(t, "× faster"), 1 / r.ratio, 0.006);
        ASSERT_NEAR(*w.low, 1 / r.high, 1e-12);
        ASSERT_NEAR(*w.high, 1 / r.low, 1e-12);
        break;
      case Verdict::kNoDifference:
        ++none;
        ASSERT_TRUE(t.starts_with("no significant difference"));
        ASSERT_EQ(t.find("faster"), std::string::npos);
        ASSERT_EQ(t.find("slower"), std::string::npos);
        break;
    }
    if (w.verdict != Verdict::kNoDifference) {
      // The estimate lies in its interval and on the verdict's side of 1.
      ASSERT_GT(w.factor, 1);
      ASSERT_GE(w.factor, *w.low - 1e-9);
      ASSERT_LE(w.factor, *w.high + 1e-9);
    }
    ASSERT_NE(t.find("95% CI"), std::string::npos);
  }
  // Both outcomes were exercised.
  EXPECT_GT(verdicts, 30);
  EXPECT_GT(none, 30);
}

}  // namespace
}  // namespace coldstart::report
