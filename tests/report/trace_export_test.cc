// trace's printers (report/trace_export.h) over a hand-made model: the
// Chrome trace clips slices to the traced window and gives each thread a
// lane; the summary names the phases and the critical thread's waits.
#include "report/trace_export.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "trace/event_model.h"

namespace coldstart::report {
namespace {

using namespace coldstart::trace;

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kT0 = 5000 * kMs;

// A launch of pid 100 with one thread 101: 10 ms spawn + 30 ms loader.
std::pair<TraceLog, TraceSummary> model() {
  TraceLog log;
  log.backend = "ptrace";
  log.program = "/srv/app";
  log.root_pid = 100;
  log.t0_ns = kT0;
  log.outcome = "ready";
  TaskEvent thread;
  thread.kind = TaskEvent::Kind::kThread, thread.pid = 100, thread.tid = 100, thread.ts_ns = kT0 + kMs;
  thread.child_tid = 101;
  log.tasks.push_back(thread);
  log.syscalls.push_back({.pid = 100, .tid = 101, .nr = 257, .start_ns = kT0 + 12 * kMs, .end_ns = kT0 + 13 * kMs,
                          .ret = 3, .path = "/etc/app.conf"});
  // Starts inside the window and ends after it: clipped at the end.
  Syscall read;
  read.pid = 100, read.tid = 100, read.nr = 0, read.start_ns = kT0 + 35 * kMs, read.end_ns = kT0 + 90 * kMs;
  log.syscalls.push_back(read);
  TraceSummary sum;
  sum.total_s = 0.040;
  sum.reached_ready = true;
  PhaseStats spawn;
  spawn.phase = Phase::kSpawn, spawn.start_ns = kT0, spawn.end_ns = kT0 + 10 * kMs, spawn.wall_s = 0.010;
  PhaseStats loader;
  loader.phase = Phase::kLoader, loader.start_ns = kT0 + 10 * kMs, loader.end_ns = kT0 + 40 * kMs, loader.wall_s = 0.030;
  loader.syscalls["openat"] = 1;
  sum.phases = {spawn, loader};
  sum.critical_tid = 100;
  sum.critical_why = "the root thread";
  sum.top_waits.push_back({.tid = 100, .start_ns = kT0 + 35 * kMs, .end_ns = kT0 + 40 * kMs,
                           .cause = WaitCause::kDisk, .syscall = "read", .phase = Phase::kLoader});
  sum.critical_off_cpu_s[static_cast<size_t>(WaitCause::kDisk)] = 0.005;
  return {log, sum};
}

TEST(TraceExport, ChromeTraceHasAPhaseLaneAndOneLanePerThreadAndClipsToTheWindow) {
  auto [log, sum] = model();
  ChromeTrace ct = chrome_trace_of(log, sum);
  EXPECT_EQ(ct.pid, 100);
  EXPECT_EQ(ct.process_name, "/srv/app");
  ASSERT_EQ(ct.tracks.size(), 3u);  // phases, process 100, thread 101
  EXPECT_EQ(ct.tracks[0].name, "phases");
  EXPECT_EQ(ct.tracks[1].name, "process 100");
  EXPECT_EQ(ct.tracks[2].name, "thread 101");
  auto find = [&](const std::string& name) {
    auto it = std::find_if(ct.slices.begin(), ct.slices.end(), [&](const ChromeSlice& s) { return s.name == name; });
    EXPECT_NE(it, ct.slices.end()) << name;
    return it == ct.slices.end() ? ChromeSlice{} : *it;
  };
  ChromeSlice loader = find("loader");
  EXPECT_DOUBLE_EQ(loader.start_us, 10000);
  EXPECT_DOUBLE_EQ(loader.dur_us, 30000);
  ChromeSlice open = find(syscall_name(257));
  EXPECT_EQ(open.tid, 101);
  EXPECT_EQ(open.args["path"], "/etc/app.conf");
  ChromeSlice read = find(syscall_name(0));
  EXPECT_DOUBLE_EQ(read.start_us, 35000);
  EXPECT_DOUBLE_EQ(read.dur_us, 5000);  // clipped at t0 + 40 ms
}

TEST(TraceExport, SummaryNamesThePhasesAndTheCriticalThreadsWaits) {
  auto [log, sum] = model();
  std::string text = trace_summary_text(log, sum, nullptr, "exit", nullptr);
  EXPECT_TRUE(text.starts_with("/srv/app: ready after ")) << text;
  EXPECT_NE(text.find("(backend ptrace)\nready: exit\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nloader "), std::string::npos) << text;
  EXPECT_NE(text.find("top waits of tid 100, the thread that was started (in all: disk "), std::string::npos) << text;
  EXPECT_NE(text.find("\nsyscalls: openat 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("gc "), std::string::npos) << text;  // no GC row without a Go target
}

}  // namespace
}  // namespace coldstart::report
