// The GODEBUG=inittrace / gctrace parser on the runtime's real line format.
#include <gtest/gtest.h>

#include "trace/go_inittrace.h"

namespace coldstart::trace {
namespace {

TEST(GoInittrace, ParsesInitAndGcLinesAmongOthers) {
  GoInitReport r = parse_go_inittrace(
      "init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs\n"
      "go-user-service: listening\n"
      "init net/http @1.2 ms, 0.35 ms clock, 51328 bytes, 516 allocs\n"
      "gc 1 @0.011s 2%: 0.010+0.35+0.003 ms clock, 4->4->0 MB, 4 MB goal, 2 P\n"
      "init broken @x ms, 1 ms clock, 0 bytes, 0 allocs\n");
  ASSERT_EQ(r.inits.size(), 2u);
  EXPECT_EQ(r.inits[1].package, "net/http");
  EXPECT_NEAR(r.inits[1].start_s, 0.0012, 1e-12);
  EXPECT_NEAR(r.inits[1].clock_s, 0.00035, 1e-12);
  EXPECT_EQ(r.inits[1].bytes, 51328u);
  EXPECT_EQ(r.inits[1].allocs, 516u);
  EXPECT_EQ(r.gc_cycles, 1u);
  EXPECT_NEAR(r.total_init_s(), 0.00035, 1e-12);
}

TEST(GoInittrace, MergesWithAnExistingGodebug) {
  EXPECT_EQ(godebug_with_inittrace(""), "inittrace=1,gctrace=1");
  EXPECT_EQ(godebug_with_inittrace("madvdontneed=1"), "madvdontneed=1,inittrace=1,gctrace=1");
}

}  // namespace
}  // namespace coldstart::trace
