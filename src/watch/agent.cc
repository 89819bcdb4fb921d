// The agent's loop, one step per timer tick (drain_interval_ms):
//   1. drain the ring buffer into the StartTracker (milestones -> histograms,
//      finished starts -> on_record, dropped kernel state -> map deletes);
//   2. expire starts older than --start-timeout;
//   3. publish the kernel's loss counters and the open-start gauge;
//   4. stop on --count, --duration or an interrupt.
// The loop sleeps in poll() on the interrupt pipe between ticks, so an idle
// agent costs a wake-up per tick and nothing per exec on the node.
#include "watch/agent.h"

#include <poll.h>

#include <fstream>
#include <memory>

#include "core/clock.h"
#include "core/signals.h"
#include "core/strings.h"
#include "watch/metrics.h"
#include "watch/metrics_server.h"

namespace coldstart::watch {
namespace {

/// AgentObserver turns the tracker's decisions into metrics, records and
/// kernel clean-up; the loop owns it.
class AgentObserver final : public StartObserver {
 public:
  AgentObserver(Metrics& metrics, KernelWatch& kernel, const std::function<void(const StartRecord&)>& on_record,
                WatchSummary& summary)
      : metrics_(metrics), kernel_(kernel), on_record_(on_record), summary_(summary) {}

  void started(const StartRecord& r) override {
    metrics_.count_start(r.labels);
    ++summary_.starts;
  }
  void reached(const StartRecord& r, Milestone m) override {
    const std::optional<MilestoneAt>& at = m == Milestone::kListen   ? r.listen
                                           : m == Milestone::kNotify ? r.notify
                                           : m == Milestone::kMain   ? r.main
                                                                     : r.accept;
    if (at) metrics_.observe(m, r.labels, at->seconds);
  }
  void finished(const StartRecord& r, bool drop_kernel_state) override {
    if (drop_kernel_state) kernel_.drop_start(r.key, r.pid);
    if (r.failed()) {
      metrics_.count_failed(r.labels);
      ++summary_.failed;
    }
    if (quiet_ || (limit_ && summary_.records >= *limit_)) return;
    ++summary_.records;
    on_record_(r);
  }
  void rejected(uint64_t key, pid_t pid) override { kernel_.drop_start(key, pid); }
  PhaseProbes executed(const StartRecord& r, std::string& main_symbol) override {
    return kernel_.probe_phases(r, main_symbol);
  }
  /// After --count: finished starts are no longer recorded.
  void quiet() { quiet_ = true; }
  /// --count: never more records than this, even from one drain.
  void limit(std::optional<uint64_t> n) { limit_ = n; }

 private:
  Metrics& metrics_;
  KernelWatch& kernel_;
  const std::function<void(const StartRecord&)>& on_record_;
  WatchSummary& summary_;
  bool quiet_ = false;
  std::optional<uint64_t> limit_;
};

void publish_losses(Metrics& metrics, const KernelLosses& l) {
  metrics.set_lost("ring_buffer", l.ring_buffer);
  metrics.set_lost("starts_map", l.starts_map);
  metrics.set_lost("cgroup_map", l.cgroup_map);
  metrics.set_lost("process_map", l.procs_map);
}

}  // namespace

std::string cgroup_of_pid(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line))
    if (starts_with(line, "0::")) return line.substr(3);
  return "";
}

WatchSummary run_watch(const WatchOptions& options, const std::function<void(const std::string&)>& on_attached,
                       const std::function<void(const StartRecord&)>& on_record) {
  // Patterns first: a bad one is a usage error before anything is loaded.
  StartTracker::Options tracker_options;
  for (const std::string& m : options.match) tracker_options.match.emplace_back(m);
  tracker_options.timeout_ns = s_to_ns(options.start_timeout_s);

  InterruptGuard interrupts;
  WatchSummary summary;
  Metrics metrics(options.max_label_sets);
  publish_losses(metrics, {});
  KernelWatch kernel(!options.match.empty(), options.max_phase_probes, options.libc_probes,
                     options.syscall_probes);
  for (const std::string& exe : options.probe_exes) kernel.probe_phases_ahead(exe);
  std::unique_ptr<MetricsServer> server;
  if (options.listen != "none") {
    server = std::make_unique<MetricsServer>(options.listen, metrics);
    summary.endpoint = server->endpoint();
  }
  AgentObserver observer(metrics, kernel, on_record, summary);
  observer.limit(options.count);
  StartTracker tracker(std::move(tracker_options), observer, cgroup_of_pid);
  std::function<void(const KernelEvent&)> feed = [&tracker](const KernelEvent& e) { tracker.on_event(e); };

  on_attached(summary.endpoint);
  int64_t t0 = monotonic_ns();
  std::optional<int64_t> deadline;
  if (options.duration_s) deadline = t0 + s_to_ns(*options.duration_s);
  bool counted_out = false;
  for (;;) {
    pollfd p{interrupt_fd(), POLLIN, 0};
    ::poll(&p, 1, options.drain_interval_ms);
    kernel.drain(feed);
    int64_t now = monotonic_ns();
    tracker.expire(now);
    publish_losses(metrics, kernel.losses());
    metrics.set_open_starts(tracker.open_starts());
    metrics.set_phase_probes(kernel.phase_probes().attached(), kernel.phase_probes().evicted());
    if (options.count && summary.records >= *options.count) {
      counted_out = true;
      break;
    }
    if (pending_interrupt() != 0 || (deadline && now >= *deadline)) break;
  }
  if (counted_out) observer.quiet();
  else kernel.drain(feed);
  tracker.finish_all();
  summary.losses = kernel.losses();
  return summary;
}

}  // namespace coldstart::watch
