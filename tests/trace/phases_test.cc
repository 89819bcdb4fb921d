// Phase attribution on hand-made logs: boundaries, clipping, merging.
#include <gtest/gtest.h>

#include "trace/phases.h"

namespace coldstart::trace {
namespace {

constexpr int64_t kMs = 1000000;

TraceLog four_phase_log() {
  TraceLog log;
  log.root_pid = 100;
  log.t0_ns = 1000 * kMs;
  log.exec_ns = log.t0_ns + 1 * kMs;
  log.entry_ns = log.t0_ns + 3 * kMs;
  log.main_ns = log.t0_ns + 6 * kMs;
  log.ready_ns = log.t0_ns + 10 * kMs;
  log.end_ns = *log.ready_ns;
  log.main_symbol = "main";
  log.has_off_cpu = true;
  return log;
}

TEST(Phases, BoundariesAndWallTimes) {
  TraceSummary s = summarize(four_phase_log());
  ASSERT_EQ(s.phases.size(), 4u);
  EXPECT_EQ(s.phases[0].phase, Phase::kSpawn);
  EXPECT_NEAR(s.phases[0].wall_s, 0.001, 1e-12);
  EXPECT_NEAR(s.phases[1].wall_s, 0.002, 1e-12);
  EXPECT_NEAR(s.phases[2].wall_s, 0.003, 1e-12);
  EXPECT_NEAR(s.phases[3].wall_s, 0.004, 1e-12);
  EXPECT_NEAR(s.total_s, 0.010, 1e-12);
  EXPECT_TRUE(s.reached_ready);
}

TEST(Phases, WaitSpanningABoundaryIsSplit) {
  TraceLog log = four_phase_log();
  // Sleeps from 5 ms to 8 ms, then waits 1 ms for a CPU.
  log.off_cpu.push_back({100, 100, log.t0_ns + 5 * kMs, log.t0_ns + 8 * kMs, log.t0_ns + 9 * kMs,
                         WaitCause::kSleep, 35});
  TraceSummary s = summarize(log);
  auto sleep = [](const PhaseStats& p) { return p.off_cpu_s[static_cast<size_t>(WaitCause::kSleep)]; };
  auto rq = [](const PhaseStats& p) { return p.off_cpu_s[static_cast<size_t>(WaitCause::kRunQueue)]; };
  EXPECT_NEAR(sleep(s.phases[2]), 0.001, 1e-12);
  EXPECT_NEAR(sleep(s.phases[3]), 0.002, 1e-12);
  EXPECT_NEAR(rq(s.phases[3]), 0.001, 1e-12);
  // One thread alive all along: on-CPU is its time minus the 4 ms away.
  EXPECT_NEAR(s.phases[2].on_cpu_s, 0.002, 1e-12);
  EXPECT_NEAR(s.phases[3].on_cpu_s, 0.001, 1e-12);
  // The root is the critical thread: its 3 ms sleep, then its 1 ms for a CPU.
  EXPECT_EQ(s.critical_tid, 100);
  ASSERT_EQ(s.top_waits.size(), 2u);
  EXPECT_EQ(s.top_waits[0].syscall, "nanosleep");
  EXPECT_EQ(s.top_waits[0].cause, WaitCause::kSleep);
  EXPECT_EQ(s.top_waits[0].phase, Phase::kRuntimeInit);
  EXPECT_EQ(s.top_waits[1].cause, WaitCause::kRunQueue);
  EXPECT_NEAR((s.top_waits[1].end_ns - s.top_waits[1].start_ns) / 1e9, 0.001, 1e-12);
  EXPECT_FALSE(s.phases[3].sums_exceed_wall);
}

// Two threads: the one that sent READY=1 is the critical one. A worker parked
// in a futex for the whole of app-init is not a top wait, while the sender's
// 2 ms in the run queue is; the phase's columns, summed over both, exceed its wall.
TEST(Phases, TopWaitsAreTheReadyThreadsIncludingRunQueue) {
  TraceLog log = four_phase_log();
  log.tasks.push_back({TaskEvent::Kind::kThread, 100, 100, log.t0_ns + 6 * kMs, 101, 0, {}});
  log.off_cpu.push_back({100, 100, log.t0_ns + 6 * kMs + 1, log.t0_ns + 6 * kMs + 1, log.t0_ns + 10 * kMs,
                         WaitCause::kOther, 202});  // the root: waits for the worker, futex
  log.off_cpu.push_back({100, 101, log.t0_ns + 7 * kMs, log.t0_ns + 7 * kMs, log.t0_ns + 9 * kMs,
                         WaitCause::kRunQueue, -1});  // the worker, preempted 2 ms
  log.syscalls.push_back({100, 101, 46, log.t0_ns + 9900 * 1000, log.t0_ns + 9950 * 1000, 7, 3, true, {}});  // sendmsg
  TraceSummary s = summarize(log);
  EXPECT_EQ(s.critical_tid, 101);
  EXPECT_EQ(s.critical_why, "sent READY=1");
  ASSERT_EQ(s.top_waits.size(), 1u);
  EXPECT_EQ(s.top_waits[0].tid, 101);
  EXPECT_EQ(s.top_waits[0].cause, WaitCause::kRunQueue);
  EXPECT_NEAR(s.critical_off_cpu_s[static_cast<size_t>(WaitCause::kRunQueue)], 0.002, 1e-12);
  EXPECT_TRUE(s.phases[3].sums_exceed_wall);
  EXPECT_FALSE(s.phases[2].sums_exceed_wall);
}

TEST(Phases, NoMainMergesInit) {
  TraceLog log = four_phase_log();
  log.main_symbol.clear();
  log.main_ns.reset();
  log.minor_faults = {1, 2, 3, 4};
  TraceSummary s = summarize(log);
  ASSERT_EQ(s.phases.size(), 3u);
  EXPECT_EQ(s.phases[2].phase, Phase::kInit);
  EXPECT_NEAR(s.phases[2].wall_s, 0.007, 1e-12);
  EXPECT_EQ(s.phases[2].minor_faults, 7u);
}

TEST(Phases, ExitBeforeMainEndsThePhaseList) {
  TraceLog log = four_phase_log();
  log.main_ns.reset();
  log.ready_ns.reset();
  log.end_ns = log.t0_ns + 4 * kMs;
  log.outcome = "exited with code 1 before ready";
  TraceSummary s = summarize(log);
  ASSERT_EQ(s.phases.size(), 3u);
  EXPECT_EQ(s.phases.back().phase, Phase::kRuntimeInit);
  EXPECT_FALSE(s.reached_ready);
  EXPECT_NEAR(s.total_s, 0.004, 1e-12);
}

TEST(Phases, ExecFailedLeavesOnlySpawn) {
  TraceLog log = four_phase_log();
  log.exec_ns.reset();
  log.entry_ns.reset();
  log.main_ns.reset();
  TraceSummary s = summarize(log);
  ASSERT_EQ(s.phases.size(), 1u);
  EXPECT_NEAR(s.phases[0].wall_s, 0.010, 1e-12);
}

TEST(Phases, CountsFilesBytesAndThreads) {
  TraceLog log = four_phase_log();
  log.syscalls.push_back({100, 100, 257, log.t0_ns + 2 * kMs, log.t0_ns + 2 * kMs + 5000, 3, 0, false,
                          "/lib/x86_64-linux-gnu/libc.so.6"});
  log.syscalls.push_back({100, 100, 0, log.t0_ns + 7 * kMs, log.t0_ns + 7 * kMs + 100, 4096, 3, false, ""});
  log.syscalls.push_back({100, 100, 0, log.t0_ns + 7 * kMs, log.t0_ns + 7 * kMs + 100, 512, 4, true, ""});
  log.tasks.push_back({TaskEvent::Kind::kThread, 100, 100, log.t0_ns + 4 * kMs, 101, 0, ""});
  TraceSummary s = summarize(log);
  ASSERT_EQ(s.phases[1].files.size(), 1u);
  EXPECT_TRUE(s.phases[1].files[0].ok);
  EXPECT_EQ(s.phases[1].syscalls.at("openat"), 1u);
  EXPECT_EQ(s.phases[3].bytes_read, 4096u);  // the socket read is network, not file bytes
  EXPECT_EQ(s.phases[2].threads_created, 1u);
}

}  // namespace
}  // namespace coldstart::trace
