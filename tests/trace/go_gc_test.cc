// The Go GC cycles: a real Go 1.19 gctrace line parsed field by field, and
// cycles assembled from uprobe hit sequences as the 1.19 runtime makes them
// (including mark termination's restart, which stops the world twice).
#include <gtest/gtest.h>

#include "trace/go_gc.h"
#include "trace/go_inittrace.h"

namespace coldstart::trace {
namespace {

constexpr const char* kLine =
    "gc 4 @0.383s 16%: 0.018+351+4.3 ms clock, 0.037+1.4/145/167+8.6 ms cpu, 29->37->33 MB, 34 MB goal, "
    "0 MB stacks, 0 MB globals, 2 P";

TEST(GoGc, ParsesAWholeGctraceLine) {
  GoGcCycle g;
  ASSERT_TRUE(parse_gctrace_line(kLine, g));
  EXPECT_EQ(g.number, 4u);
  EXPECT_NEAR(g.start_s, 0.383, 1e-12);
  EXPECT_EQ(g.cpu_percent, 16u);
  EXPECT_NEAR(g.sweep_term_s, 0.018e-3, 1e-12);
  EXPECT_NEAR(g.mark_s, 0.351, 1e-12);
  EXPECT_NEAR(g.mark_term_s, 4.3e-3, 1e-12);
  EXPECT_NEAR(g.cpu_s(), (0.037 + 1.4 + 145 + 167 + 8.6) * 1e-3, 1e-9);
  EXPECT_EQ(g.heap_start_bytes, 29u << 20);
  EXPECT_EQ(g.heap_live_bytes, 33u << 20);
  EXPECT_EQ(g.heap_goal_bytes, 34u << 20);
  EXPECT_EQ(g.procs, 2u);
  EXPECT_FALSE(g.forced);
  EXPECT_TRUE(parse_gctrace_line(std::string(kLine) + " (forced)", g));
  EXPECT_TRUE(g.forced);
  for (const char* bad : {"gc 4 @0.383s 16%: 0.018+351 ms clock", "gc x @1s", "init a @1 ms, 1 ms clock, 0 bytes, 0 allocs"})
    EXPECT_FALSE(parse_gctrace_line(bad, g)) << bad;
}

TEST(GoGc, PlacesGctraceCyclesAtTheRuntimeStartAndStopsAtTheEnd) {
  GoInitReport r = parse_go_inittrace(std::string(kLine) + "\nother output\n" +
                                      "gc 5 @0.900s 16%: 0.02+1+0.01 ms clock, 0.04+0/1/1+0.02 ms cpu, 4->5->4 MB, 4 MB goal, 2 P\n");
  ASSERT_EQ(r.gcs.size(), 2u);
  auto cycles = gc_cycles_from_gctrace(r, 1000000000, 1000000000 + 500000000);
  ASSERT_EQ(cycles.size(), 1u);  // gc 5 started after the end of the window
  EXPECT_EQ(cycles[0].start_ns, 1383000000);
  EXPECT_EQ(cycles[0].sweep_term_ns(), 18000);
  EXPECT_EQ(cycles[0].mark_term_ns(), 4300000);
}

TEST(GoGc, AssemblesCyclesFromProbeHitsWithARestartAndStrayCalls) {
  using K = GcProbeHit::Kind;
  std::vector<GcProbeHit> hits = {
      {K::kGcStart, 100},                                           // a gcStart that found no work
      {K::kGcStart, 1000}, {K::kStop, 1010}, {K::kStart, 1060},     // sweep termination: 50
      {K::kStop, 5000}, {K::kStart, 5020},                          // mark termination restarted
      {K::kStop, 6000}, {K::kMarkTermination, 6030}, {K::kStart, 6100},  // mark termination: 100
      {K::kStop, 7000}, {K::kStart, 7005},                          // another STW (ReadMemStats)
      {K::kGcStart, 9000}, {K::kStop, 9001}, {K::kStart, 9011},
      {K::kStop, 9500}, {K::kMarkTermination, 9501}, {K::kStart, 9540},
      {K::kGcStart, 12000}, {K::kStop, 12001},                      // unfinished at the end
  };
  auto cycles = gc_cycles_from_probes(hits, 13000);
  ASSERT_EQ(cycles.size(), 3u);  // the last one cut at the end of the window
  EXPECT_EQ(cycles[2].start_ns, 12001);
  EXPECT_EQ(cycles[2].end_ns, 13000);
  cycles.pop_back();
  EXPECT_EQ(cycles[0].start_ns, 1010);
  EXPECT_EQ(cycles[0].sweep_term_ns(), 50);
  EXPECT_EQ(cycles[0].mark_term_start_ns, 6000);
  EXPECT_EQ(cycles[0].mark_term_ns(), 100);
  EXPECT_EQ(cycles[1].stw_ns(), 10 + 40);
  GcSummary s = summarize_gc(cycles, std::nullopt);
  EXPECT_EQ(s.cycles, 2u);
  EXPECT_NEAR(s.stw_max_s, 100e-9, 1e-15);
  EXPECT_NEAR(s.stw_total_s, 200e-9, 1e-15);
  EXPECT_FALSE(s.cpu_share);  // uprobes do not see GC CPU time
}

TEST(GoGc, ChoosesTheProbeSetByVersion) {
  EXPECT_TRUE(gc_probe_set("go1.19.8"));
  EXPECT_EQ(gc_probe_set("go1.19.8")->mark_termination, "runtime.gcMarkTermination");
  EXPECT_FALSE(gc_probe_set("go1.18"));
  EXPECT_FALSE(gc_probe_set(""));
}

}  // namespace
}  // namespace coldstart::trace
