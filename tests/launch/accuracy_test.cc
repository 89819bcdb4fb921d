// Accuracy of time-to-ready. The fixture waits D ms (sleeping, or spinning on
// the clock) between its start and READY=1, and puts its own clock readings
// into the datagram: X_FIXTURE_MAIN_NS (at main) and X_FIXTURE_SENT_NS (just
// before sendto), CLOCK_MONOTONIC like ours. That splits a measured time into
//   (main - t0)     spawn + exec: the launcher's cost,
//   (sent - main)   the fixture's own wait, D plus the VM's timer overshoot,
//   (ready - sent)  our detection latency,
// so the launcher is judged on what it adds, not on how late this VM wakes a
// sleeper (0.1-3 ms). Always checked: no run is below D, t0 precedes the
// fixture's start, ready never precedes the send (the ready instant is the
// kernel's stamp of the datagram, notify.cc). The D + 0.3 ms is shown
// by bench/bench_accuracy.cc next to a hand-made loop: on this VM kind a
// whole series can be 1 ms slower for reasons outside the launcher (an idle
// vCPU waking up), so the test only fails beyond a wide 1 ms.
// SERIAL: runs alone, so parallel tests do not inflate the medians.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "launch/launcher.h"
#include "launch_test_util.h"

namespace coldstart::launch {
namespace {

// The 1-minute load average per CPU. Above 1, other programs compete for the
// CPU and a wake-up can wait a whole scheduler slice: the latency bounds are
// then not judged (the lower bound, a correctness property, always is).
double load_per_cpu() {
  double load = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = 0;
    std::fclose(f);
  }
  return load / static_cast<double>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int64_t field_ns(const RunRecord& r, std::string_view key) {
  for (const auto& m : r.notifications) {
    for (const auto& [k, v] : m.fields) {
      if (k == key) return std::stoll(v);
    }
  }
  ADD_FAILURE() << key << " missing from the fixture's READY=1 datagram";
  return 0;
}

struct LauncherCost {
  double median_added_s;      // (main - t0) + (ready - sent)
  double median_detection_s;  // ready - sent: the fixture's socket() + sendto()
  double median_total_s;
};

LauncherCost measure(const std::string& mode, int d) {
  LaunchOptions o;
  o.argv = {test::launch_fixture(), mode, std::to_string(d)};
  o.ready = ReadySpec::parse("notify");
  o.output = OutputMode::kDiscard;
  launch_once(o);  // warm-up: page cache, cgroup directory
  std::vector<double> added, detection, total;
  const int64_t delay_ns = int64_t{d} * 1000000;
  for (int i = 0; i < 15; ++i) {
    RunRecord r = launch_once(o);
    EXPECT_TRUE(r.ready) << r.failure;
    if (!r.ready) break;
    const int64_t main_ns = field_ns(r, "X_FIXTURE_MAIN_NS");
    const int64_t sent_ns = field_ns(r, "X_FIXTURE_SENT_NS");
    EXPECT_GE(r.ready_ns - r.t0_ns, delay_ns) << mode << " " << d << " ms: below D";
    EXPECT_LT(r.t0_ns, main_ns) << "t0 taken after the target started";
    // 20 µs: the kernel's send stamp is converted between clocks (notify.cc).
    EXPECT_GE(r.ready_ns, sent_ns - 20000) << "ready before the fixture sent READY=1";
    added.push_back(ns_to_s((main_ns - r.t0_ns) + (r.ready_ns - sent_ns)));
    detection.push_back(ns_to_s(r.ready_ns - sent_ns));
    total.push_back(to_seconds(r.time_to_ready));
  }
  if (added.empty()) return {1, 1, 1};
  return {median(added), median(detection), median(total)};
}

TEST(Accuracy, NeverBelowTheDelayAndLittleAdded) {
  for (const char* mode : {"notify-spin", "notify"}) {
    for (int d : {1, 2, 5, 10, 20, 50}) {
      // A busy moment on a shared VM can stall one series; a launcher that is
      // really slower fails all three attempts.
      LauncherCost c{};
      for (int attempt = 0; attempt < 3; ++attempt) {
        c = measure(mode, d);
        if (c.median_added_s <= 0.0003) break;
      }
      std::printf("%-11s D = %2d ms: median %.3f ms, launcher adds %.0f us (of which send %.0f us)\n", mode, d,
                  c.median_total_s * 1e3, c.median_added_s * 1e6, c.median_detection_s * 1e6);
      if (load_per_cpu() > 1.0) continue;
      EXPECT_LE(c.median_added_s, 0.001) << mode << " D = " << d << " ms";
    }
  }
  if (load_per_cpu() > 1.0) GTEST_SKIP() << "machine busy (load " << load_per_cpu() << " per CPU): only the bounds that do not depend on timing were checked";
}

TEST(Accuracy, ExitOfAStaticNoopIsBelowAMillisecond) {
  LaunchOptions o;
  o.argv = {test::fixture("noop-static")};
  o.output = OutputMode::kDiscard;
  launch_once(o);
  std::vector<double> times;
  for (int i = 0; i < 30; ++i) times.push_back(to_seconds(launch_once(o).time_to_ready));
  if (load_per_cpu() > 1.0) GTEST_SKIP() << "machine busy (load " << load_per_cpu() << " per CPU): median "
                                        << median(times) * 1e3 << " ms not judged";
  EXPECT_LT(median(times), 0.001) << median(times) * 1e3 << " ms";
}

}  // namespace
}  // namespace coldstart::launch
