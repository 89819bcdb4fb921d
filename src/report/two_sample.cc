// Mann-Whitney U: rank the pooled sample (ties get their average rank),
// U = R_b - n_b(n_b+1)/2, and under H0 U is approximately normal with mean
// n_a n_b / 2 and variance n_a n_b / 12 * ((n+1) - sum(t^3 - t)/(n(n-1))).
// The approximation is good from about 8 runs per side, which bench's
// defaults exceed; with fewer runs the p-value is only indicative.
//
// Bootstrap: resample each side with replacement, take the ratio of medians,
// and report the 2.5% and 97.5% quantiles of 2000 such ratios.
#include "report/two_sample.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "report/bench_model.h"

namespace coldstart::report {
namespace {

double median_of(std::vector<double>& v) {
  std::sort(v.begin(), v.end());
  return quantile_sorted(v, 0.5);
}

}  // namespace

double mann_whitney_p(std::span<const double> a, std::span<const double> b) {
  if (a.empty() || b.empty()) return 1;
  struct Item {
    double v;
    bool from_b;
  };
  std::vector<Item> all;
  for (double v : a) all.push_back({v, false});
  for (double v : b) all.push_back({v, true});
  std::sort(all.begin(), all.end(), [](const Item& x, const Item& y) { return x.v < y.v; });
  double n = static_cast<double>(all.size());
  double rank_sum_b = 0, tie_term = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].v == all[i].v) ++j;
    double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;  // ranks i+1..j
    double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    for (size_t k = i; k < j; ++k)
      if (all[k].from_b) rank_sum_b += avg_rank;
    i = j;
  }
  double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  double u = rank_sum_b - nb * (nb + 1) / 2;
  double mean = na * nb / 2;
  double var = na * nb / 12 * ((n + 1) - (n > 1 ? tie_term / (n * (n - 1)) : 0));
  if (var <= 0) return 1;  // every value equal
  double z = (std::fabs(u - mean) - 0.5) / std::sqrt(var);
  if (z < 0) z = 0;
  return std::erfc(z / std::sqrt(2.0));
}

RatioEstimate median_ratio(std::span<const double> a, std::span<const double> b) {
  std::vector<double> va(a.begin(), a.end()), vb(b.begin(), b.end());
  RatioEstimate r;
  r.ratio = median_of(vb) / median_of(va);
  constexpr int kResamples = 2000;
  std::mt19937_64 rng(0x5eed);
  std::uniform_int_distribution<size_t> pick_a(0, va.size() - 1), pick_b(0, vb.size() - 1);
  std::vector<double> ratios, ra(va.size()), rb(vb.size());
  ratios.reserve(kResamples);
  for (int i = 0; i < kResamples; ++i) {
    for (double& x : ra) x = va[pick_a(rng)];
    for (double& x : rb) x = vb[pick_b(rng)];
    double ma = median_of(ra);
    if (ma > 0) ratios.push_back(median_of(rb) / ma);
  }
  if (ratios.empty()) return r;
  std::sort(ratios.begin(), ratios.end());
  r.low = quantile_sorted(ratios, 0.025);
  r.high = quantile_sorted(ratios, 0.975);
  return r;
}

}  // namespace coldstart::report

