// bench results: statistics over the runs that reached ready, outliers and
// the comparisons.
//
// Quantiles are R-7 (numpy's default, bench_model.h's quantile_sorted).
// Comparisons put every command against the first: the ratio of medians with
// a 95% percentile-bootstrap interval and a two-sided Mann-Whitney U p-value
// (two_sample.h), said in the words every printer uses (comparison_words.h):
// "B is 1.42× slower than A (95% CI 1.37×–1.48×, p < 0.001)".
#include "report/bench_results.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/clock.h"
#include "report/bench_model.h"
#include "report/comparison_words.h"
#include "report/two_sample.h"

namespace coldstart::report {
namespace {

double median_sorted_copy(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return quantile_sorted(v, 0.5);
}

}  // namespace

BenchRun bench_run_of(const launch::RunRecord& r, BenchRun run) {
  run.ready = r.ready;
  run.time_to_ready = r.time_to_ready;
  run.usage = r.usage;
  if (r.exit) {
    if (r.exit->signal != 0) run.exit_signal = r.exit->signal;
    else run.exit_code = r.exit->code;
  }
  if (!r.ready) run.failure = r.failure;
  run.mount_time = r.mount_time;
  run.overlay_mount_time = r.overlay_mount_time;
  run.exec_to_ready = r.exec_to_ready;
  run.isolation = r.isolation;
  return run;
}

std::vector<double> BenchCommandResult::ready_times() const {
  std::vector<double> t;
  for (const auto& r : runs) {
    if (r.ready) t.push_back(to_seconds(r.time_to_ready));
  }
  return t;
}

RunStats compute_stats(std::span<const BenchRun> runs) {
  RunStats s;
  std::vector<double> t;
  size_t cpu_runs = 0;
  for (const auto& r : runs) {
    if (!r.ready) continue;
    t.push_back(to_seconds(r.time_to_ready));
    if (!r.usage.cpu_known) continue;
    s.user_mean += to_seconds(r.usage.user_time);
    s.system_mean += to_seconds(r.usage.system_time);
    ++cpu_runs;
  }
  s.count = t.size();
  if (t.empty()) return s;
  const double n = static_cast<double>(t.size());
  s.cpu_known = cpu_runs > 0;
  if (cpu_runs > 0) {
    s.user_mean /= static_cast<double>(cpu_runs);
    s.system_mean /= static_cast<double>(cpu_runs);
  }
  for (double x : t) s.mean += x;
  s.mean /= n;
  if (t.size() > 1) {
    double ss = 0;
    for (double x : t) ss += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(ss / (n - 1));
  }
  std::sort(t.begin(), t.end());
  s.min = t.front();
  s.max = t.back();
  s.median = quantile_sorted(t, 0.5);
  s.p90 = quantile_sorted(t, 0.90);
  s.p95 = quantile_sorted(t, 0.95);
  s.p99 = quantile_sorted(t, 0.99);
  return s;
}

std::optional<std::string> outlier_warning(std::span<const double> times) {
  if (times.size() < 5) return std::nullopt;
  std::vector<double> v(times.begin(), times.end());
  double med = median_sorted_copy(v);
  std::vector<double> dev;
  for (double x : v) dev.push_back(std::fabs(x - med));
  double mad = median_sorted_copy(dev);
  if (mad <= 0) return std::nullopt;
  size_t outliers = 0;
  for (double x : v) outliers += 0.6745 * std::fabs(x - med) / mad > 3.5 ? 1 : 0;
  if (outliers == 0) return std::nullopt;
  bool first_slowest = std::max_element(v.begin(), v.end()) == v.begin() && 0.6745 * (v[0] - med) / mad > 3.5;
  std::string msg = fmt::format("{} of {} runs are statistical outliers", outliers, v.size());
  if (first_slowest) {
    msg += "; the first run was the slowest by far (caches warming up? more warm-up runs or a cold cache would tell)";
  } else {
    msg += " (another program competing for the CPU or disk?)";
  }
  return msg;
}

void finish_report(BenchReport& report) {
  // The containment, stated once for the whole bench (every launch is contained the same way).
  report.unavailable.clear();
  for (const auto& c : report.commands) {
    for (const auto& r : c.runs) {
      if (report.isolation.empty()) report.isolation = r.isolation;
    }
  }
  bool cpu_unknown = false, residency_unknown = false, rss_unknown = false;
  for (const auto& c : report.commands) {
    for (const auto& r : c.runs) {
      cpu_unknown = cpu_unknown || (r.ready && !r.usage.cpu_known);
      rss_unknown = rss_unknown || (r.ready && !r.usage.peak_rss_known);
      residency_unknown = residency_unknown || !r.residency_known;
    }
  }
  if (cpu_unknown) {
    report.unavailable.push_back(
        "user and system CPU time: without a cgroup's cpu.stat, /proc counts whole clock ticks of the live tree");
  }
  if (rss_unknown) {
    report.unavailable.push_back(
        "peak RSS of a process that exits before the ready instant: read from the kernel's exit statistics "
        "(taskstats), which need CAP_NET_ADMIN");
  }
  if (residency_unknown) {
    report.unavailable.push_back(
        "page-cache residency: mincore() says every page is resident for files this user neither owns nor may "
        "write (Linux >= 5.0); run as root to see what eviction left");
  }
  for (auto& c : report.commands) {
    c.stats = compute_stats(c.runs);
    c.outlier_warning = outlier_warning(c.ready_times());
  }
  report.comparisons.clear();
  if (report.commands.size() < 2) return;
  const auto base_times = report.commands[0].ready_times();
  if (base_times.empty()) return;
  for (size_t i = 1; i < report.commands.size(); ++i) {
    const auto times = report.commands[i].ready_times();
    if (times.empty() || report.commands[0].stats.median <= 0) continue;
    BenchComparisonResult cmp;
    cmp.baseline = 0;
    cmp.candidate = i;
    RatioEstimate r = median_ratio(base_times, times);
    cmp.ratio = r.ratio;
    cmp.ci_low = r.low;
    cmp.ci_high = r.high;
    cmp.p_value = mann_whitney_p(base_times, times);
    // The same words as the report and --baseline (report/comparison_words.h).
    cmp.sentence = comparison_sentence(report.commands[i].command, report.commands[0].command,
                                       compare_words(r.ratio, r.low, r.high, cmp.p_value));
    report.comparisons.push_back(std::move(cmp));
  }
}

}  // namespace coldstart::report
