// Prometheus text exposition format 0.0.4 (what promtool check metrics reads):
//  * one # HELP and one # TYPE line per family, before its samples;
//  * a histogram family has _bucket{le="..."} samples, cumulative, ending at
//    le="+Inf" (equal to _count), then _sum and _count, per label set;
//  * counters end in _total; label values escape \, " and newline;
//  * numbers in Go's shortest float form ("0.0025", "300", "+Inf").
// Series appear once they have something: a service that never sends
// READY=1 has no time_to_notify series (an empty histogram says nothing).
#include "watch/metrics.h"

#include <fmt/format.h>

namespace coldstart::watch {
namespace {

constexpr const char* kHistogramNames[kMilestones] = {
    "coldstart_watch_time_to_listen_seconds",
    "coldstart_watch_time_to_notify_seconds",
    "coldstart_watch_time_to_first_accept_seconds",
    "coldstart_watch_time_to_main_seconds",
};
constexpr const char* kHistogramHelp[kMilestones] = {
    "Time from a service start (the fork of the process that became the service, else its exec) "
    "to its first socket in LISTEN state.",
    "Time from a service start (the fork of the process that became the service, else its exec) "
    "to its first READY=1 notification.",
    "Time from a service start (the fork of the process that became the service, else its exec) "
    "to its first accepted connection.",
    "Time from a service start (the fork of the process that became the service, else its exec) "
    "to main (main.main in Go) of its latest executable.",
};

std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string labels_text(const std::pair<std::string, std::string>& key) {
  return fmt::format("service=\"{}\",kind=\"{}\"", escape_label(key.first), escape_label(key.second));
}

}  // namespace

Metrics::PerService& Metrics::series(const StartLabels& l, bool is_start) {
  std::pair<std::string, std::string> key{l.service, l.kind};
  auto it = services_.find(key);
  if (it != services_.end()) return it->second;
  if (services_.size() >= max_label_sets_) {
    if (is_start) ++folded_;
    key.first = "_other";
  }
  return services_[key];
}

void Metrics::count_start(const StartLabels& l) {
  std::lock_guard lock(mu_);
  ++series(l, true).starts;
}

void Metrics::count_failed(const StartLabels& l) {
  std::lock_guard lock(mu_);
  ++series(l, false).failed;
}

void Metrics::observe(Milestone m, const StartLabels& l, double seconds) {
  std::lock_guard lock(mu_);
  Histogram& h = series(l, false).milestones[static_cast<size_t>(m)];
  for (size_t i = 0; i < kStartBuckets.size(); ++i) {
    if (seconds <= kStartBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::set_lost(const std::string& reason, uint64_t total) {
  std::lock_guard lock(mu_);
  lost_[reason] = total;
}

void Metrics::set_open_starts(size_t n) {
  std::lock_guard lock(mu_);
  open_starts_ = n;
}

void Metrics::set_phase_probes(size_t attached, uint64_t evicted) {
  std::lock_guard lock(mu_);
  probes_attached_ = attached;
  probes_evicted_ = evicted;
}

std::string Metrics::exposition() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (size_t m = 0; m < kMilestones; ++m) {
    out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", kHistogramNames[m], kHistogramHelp[m],
                       kHistogramNames[m]);
    for (const auto& [key, s] : services_) {
      const Histogram& h = s.milestones[m];
      if (h.count == 0) continue;
      std::string l = labels_text(key);
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kStartBuckets.size(); ++i) {
        cumulative += h.buckets[i];
        out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", kHistogramNames[m], l, kStartBuckets[i], cumulative);
      }
      out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", kHistogramNames[m], l, h.count);
      out += fmt::format("{}_sum{{{}}} {}\n", kHistogramNames[m], l, h.sum);
      out += fmt::format("{}_count{{{}}} {}\n", kHistogramNames[m], l, h.count);
    }
  }
  out += "# HELP coldstart_watch_starts_total Service starts seen (first exec in a fresh cgroup, or --match).\n";
  out += "# TYPE coldstart_watch_starts_total counter\n";
  for (const auto& [key, s] : services_)
    out += fmt::format("coldstart_watch_starts_total{{{}}} {}\n", labels_text(key), s.starts);
  out += "# HELP coldstart_watch_failed_starts_total Starts whose processes all exited, with a failure status, "
         "before listening or notifying.\n";
  out += "# TYPE coldstart_watch_failed_starts_total counter\n";
  for (const auto& [key, s] : services_)
    out += fmt::format("coldstart_watch_failed_starts_total{{{}}} {}\n", labels_text(key), s.failed);
  out += "# HELP coldstart_watch_events_lost_total Kernel records or starts lost because a bounded buffer was full.\n";
  out += "# TYPE coldstart_watch_events_lost_total counter\n";
  for (const auto& [reason, n] : lost_)
    out += fmt::format("coldstart_watch_events_lost_total{{reason=\"{}\"}} {}\n", escape_label(reason), n);
  out += "# HELP coldstart_watch_label_sets_folded_total Starts counted under service=\"_other\" because the "
         "label set limit was reached.\n";
  out += "# TYPE coldstart_watch_label_sets_folded_total counter\n";
  out += fmt::format("coldstart_watch_label_sets_folded_total {}\n", folded_);
  out += "# HELP coldstart_watch_open_starts Starts being followed now.\n";
  out += "# TYPE coldstart_watch_open_starts gauge\n";
  out += fmt::format("coldstart_watch_open_starts {}\n", open_starts_);
  out += "# HELP coldstart_watch_phase_probes Executables with loader-done and main uprobes attached.\n";
  out += "# TYPE coldstart_watch_phase_probes gauge\n";
  out += fmt::format("coldstart_watch_phase_probes {}\n", probes_attached_);
  out += "# HELP coldstart_watch_phase_probe_evictions_total Executables whose uprobes were detached to keep "
         "within the bound (least recently started first).\n";
  out += "# TYPE coldstart_watch_phase_probe_evictions_total counter\n";
  out += fmt::format("coldstart_watch_phase_probe_evictions_total {}\n", probes_evicted_);
  return out;
}

}  // namespace coldstart::watch
