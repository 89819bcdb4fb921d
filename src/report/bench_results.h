// The result model of `coldstart bench` and its statistics: what cli/bench.cc
// fills run by run (BenchReport), and finish_report, which computes each
// command's statistics, outlier warnings and the comparisons against the
// first command. The printers of the model are bench_export.h's, the
// --budget gate over it bench_budget.h's; later consumers (--save,
// --baseline, --export-prometheus, --matrix) take the same model.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "launch/launcher.h"

namespace coldstart::report {

/// One run of one command.
struct BenchRun {
  bool ready = false;
  Duration time_to_ready{};  ///< valid when ready
  std::optional<int> exit_code;
  int exit_signal = 0;
  std::string failure;
  launch::ResourceUsage usage;
  /// --cold/--prewarm: page-cache residency of the evicted files before the
  /// eviction, and at the start of the run (after eviction; ~0 when cold is cold).
  uint64_t resident_before_pages = 0;
  uint64_t resident_at_start_pages = 0;
  uint64_t file_pages = 0;
  /// --image: entering the image (namespace + overlayfs + pivot, inside
  /// time_to_ready), the overlayfs mount alone, and execve to ready.
  std::optional<Duration> mount_time, overlay_mount_time, exec_to_ready;
  bool residency_known = true;  ///< false: mincore could not see the files (unprivileged)
  std::string isolation;        ///< the launch's containment (RunRecord::isolation)
};

/// The launcher's record of one launch as bench keeps it: readiness, time,
/// resources, how it ended, the image timings and the containment, written
/// into `run`, whose residency fields (bench's own, measured before the
/// launch) are kept.
BenchRun bench_run_of(const launch::RunRecord& r, BenchRun run = {});

/// Statistics over the ready runs of one command (seconds).
struct RunStats {
  size_t count = 0;
  double mean = 0, stddev = 0, median = 0, min = 0, max = 0, p90 = 0, p95 = 0, p99 = 0;
  double user_mean = 0, system_mean = 0;  ///< over the ready runs whose CPU time is known
  bool cpu_known = true;                  ///< false: no ready run had a known CPU time
};

/// Everything measured for one command.
struct BenchCommandResult {
  std::string command;
  std::string mode;   ///< "warm", "cold" or "prewarm"
  std::string ready;  ///< the SPEC
  std::vector<BenchRun> runs;  ///< measured runs in order (warm-ups excluded)
  std::vector<std::string> notes;  ///< e.g. the Go settings bench made
  RunStats stats;
  std::optional<std::string> outlier_warning;
  std::vector<double> ready_times() const;
};

/// The ratio of medians of `candidate` over `baseline` (indices into commands).
struct BenchComparisonResult {
  size_t baseline = 0;
  size_t candidate = 0;
  double ratio = 1, ci_low = 1, ci_high = 1, p_value = 1;
  std::string sentence;  ///< "./b is 1.42× slower than ./a (95% CI 1.37×–1.48×, p < 0.001)" (comparison_words.h)
};

struct BenchReport {
  std::vector<BenchCommandResult> commands;
  std::vector<BenchComparisonResult> comparisons;
  bool interleaved = true;
  size_t warmup = 0;
  /// How the runs were contained ("cgroup v2 ..." or "process group (no
  /// cgroup: ...)") and, for the fallback, the figures it leaves unavailable;
  /// finish_report fills both from the runs.
  std::string isolation;
  std::vector<std::string> unavailable;
};

/// Mean, stddev (sample), median and R-7 quantiles of the ready runs.
RunStats compute_stats(std::span<const BenchRun> runs);

/// A warning when runs disagree: outliers by the modified z-score (> 3.5,
/// Iglewicz-Hoaglin), naming a slow first run (cold caches) when it is one.
std::optional<std::string> outlier_warning(std::span<const double> times);

/// Fills stats/outlier warnings of every command and the comparisons of every
/// other command against the first (bootstrap CI, Mann-Whitney U).
void finish_report(BenchReport& report);

}  // namespace coldstart::report
