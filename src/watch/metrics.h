// The agent's Prometheus metrics: per (service, kind) histograms of the time
// from exec to the first listen, READY=1 and accepted connection, counters
// of starts and failed starts, and what was lost. Filled by the agent's
// event loop, read by the HTTP thread; one mutex guards both.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "watch/labels.h"

namespace coldstart::watch {

/// Upper bounds of the histogram buckets, in seconds: 1 ms ... 5 min.
inline constexpr std::array<double, 17> kStartBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                         1,     2.5,    5,     10,   30,    60,   120,  300};

enum class Milestone { kListen = 0, kNotify = 1, kFirstAccept = 2, kMain = 3 };
inline constexpr size_t kMilestones = 4;

/// Metrics is the registry behind /metrics. At most `max_label_sets`
/// (service, kind) pairs are kept; further pairs are folded into
/// service="_other" (and counted) so that no start can grow the exposition
/// without bound.
class Metrics {
 public:
  explicit Metrics(size_t max_label_sets = 500) : max_label_sets_(max_label_sets) {}

  void count_start(const StartLabels& l);
  void count_failed(const StartLabels& l);
  void observe(Milestone m, const StartLabels& l, double seconds);
  /// Absolute totals of things lost, by reason (e.g. "ring_buffer", "starts_map").
  void set_lost(const std::string& reason, uint64_t total);
  void set_open_starts(size_t n);
  /// Executables with loader/main uprobes now, and how many were detached to stay within the bound.
  void set_phase_probes(size_t attached, uint64_t evicted);

  /// The exposition in Prometheus text format 0.0.4.
  std::string exposition() const;

 private:
  struct Histogram {
    std::array<uint64_t, kStartBuckets.size()> buckets{};  // not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  struct PerService {
    uint64_t starts = 0;
    uint64_t failed = 0;
    std::array<Histogram, kMilestones> milestones;
  };
  PerService& series(const StartLabels& l, bool is_start);  // Requires: mu_ held.

  mutable std::mutex mu_;
  size_t max_label_sets_;
  uint64_t folded_ = 0;
  size_t open_starts_ = 0;
  size_t probes_attached_ = 0;
  uint64_t probes_evicted_ = 0;
  std::map<std::pair<std::string, std::string>, PerService> services_;
  std::map<std::string, uint64_t> lost_;
};

}  // namespace coldstart::watch
