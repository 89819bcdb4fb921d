// Residency, eviction and loading against the real page cache (SERIAL suite).
// Files are written into a temp dir and fsync'ed so their pages are clean and
// can be evicted; a tmpfs TMPDIR cannot evict at all and is skipped with why.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "core/unique_fd.h"
#include "pagecache/evict.h"
#include "pagecache/load.h"
#include "pagecache/residency.h"
#include "pagecache_test_util.h"
#include "test_util.h"

namespace coldstart::pagecache {
namespace {

TEST(Cache, EvictDropsCleanPagesAndReportsBeforeAndAfter) {
  test::TempDir dir;
  SKIP_IF_NO_PAGE_CACHE(dir.path());
  std::string p = write_file(dir.path() + "/data", 64);
  auto before = residency(p);
  ASSERT_TRUE(before) << before.error();
  EXPECT_EQ(before->total_pages, 64u);
  EXPECT_EQ(before->resident_pages, 64u);  // just written
  EvictOutcome e = evict_file(p);
  ASSERT_TRUE(e.ok()) << e.error;
  EXPECT_EQ(e.resident_before, 64u);
  EXPECT_EQ(e.resident_after, 0u);
  EXPECT_EQ(residency(p)->resident_pages, 0u);
}

TEST(Cache, EvictCannotDropMappedLockedPagesAndSaysSo) {
  test::TempDir dir;
  SKIP_IF_NO_PAGE_CACHE(dir.path());
  std::string p = write_file(dir.path() + "/data", 16);
  auto f = open_regular(p);
  ASSERT_TRUE(f);
  LockedRanges lock;
  ASSERT_TRUE(lock.add(*f, p, std::vector<PageRange>{{0, 4}}));
  EvictOutcome e = evict_file(p);
  EXPECT_EQ(e.resident_before, 16u);
  // The locked, mapped pages stayed (eviction works on folios, which can be larger than a page).
  EXPECT_GE(e.resident_after, 4u);
  EXPECT_LT(e.resident_after, 16u);
}

TEST(Cache, EvictReportsMissingAndRefusedPerFile) {
  test::TempDir dir;
  std::vector<std::string> paths{dir.path() + "/missing", "/dev/null", dir.path() + "/missing"};
  EvictReport r = evict_files(paths);
  ASSERT_EQ(r.files.size(), 2u);  // duplicate evicted once
  EXPECT_NE(r.files[0].error.find("No such file"), std::string::npos);
  EXPECT_NE(r.files[1].error.find("refused"), std::string::npos);
}

TEST(Cache, ResidencyReportsCoalescedRanges) {
  test::TempDir dir;
  SKIP_IF_NO_PAGE_CACHE(dir.path());
  std::string p = write_file(dir.path() + "/data", 32);
  ASSERT_TRUE(evict_file(p).ok());
  auto f = open_regular(p);
  ASSERT_TRUE(f);
  // pread of single pages: POSIX_FADV_RANDOM keeps readahead from adding neighbours.
  ASSERT_EQ(::posix_fadvise(f->fd.get(), 0, 0, POSIX_FADV_RANDOM), 0);
  char c;
  for (uint64_t page : {3, 4, 5, 20})
    ASSERT_EQ(::pread(f->fd.get(), &c, 1, static_cast<off_t>(page * page_size())), 1);
  auto r = residency(*f, p);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ranges, (std::vector<PageRange>{{3, 3}, {20, 1}}));
  EXPECT_EQ(r->resident_pages, 4u);
}

class LoadMethods : public ::testing::TestWithParam<LoadMethod> {};

TEST_P(LoadMethods, LoadsExactlyTheRequestedRanges) {
  test::TempDir dir;
  SKIP_IF_NO_PAGE_CACHE(dir.path());
  std::string p = write_file(dir.path() + "/data", 256);
  ASSERT_TRUE(evict_file(p).ok());
  auto f = open_regular(p);
  ASSERT_TRUE(f);
  // Readahead is 0 for this fd so only what we ask for arrives (WILLNEED itself is not limited by it).
  ASSERT_EQ(::posix_fadvise(f->fd.get(), 0, 0, POSIX_FADV_RANDOM), 0);
  std::vector<PageRange> want{{0, 8}, {100, 40}, {250, 6}};
  auto bytes = load_ranges(*f, p, want, GetParam());
  ASSERT_TRUE(bytes) << bytes.error();
  EXPECT_EQ(*bytes, 54 * page_size());
  // WILLNEED returns before the I/O completes; give it a moment to land.
  auto r = wait_for_resident(p, 54);
  EXPECT_EQ(r.ranges, want);
}

INSTANTIATE_TEST_SUITE_P(All, LoadMethods,
                         ::testing::Values(LoadMethod::kWillneed, LoadMethod::kPopulate, LoadMethod::kRead),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// A range larger than the device's readahead window (gap filling makes
// them: caddy's .text is one 17 MiB range). The kernel cuts one WILLNEED to
// max(read_ahead_kb, max I/O size) and reads nothing beyond, so load_ranges
// must ask in pieces: else willneed leaves most of the range out, and
// populate's faults over the rest read around them, past the range's end
// (8 MiB windows on this VM's disk). Exactly the range arrives, nothing else.
TEST(Cache, LoadsARangeLargerThanTheReadaheadWindowExactly) {
  test::TempDir dir;
  SKIP_IF_NO_PAGE_CACHE(dir.path());
  std::string p = write_file(dir.path() + "/data", 12288);  // 48 MiB
  for (LoadMethod m : {LoadMethod::kPopulate, LoadMethod::kWillneed}) {
    ASSERT_TRUE(evict_file(p).ok());
    auto f = open_regular(p);  // the default readahead of the device, as apply opens files
    ASSERT_TRUE(f);
    std::vector<PageRange> want{{0, 6144}, {9000, 16}};  // 24 MiB, then a window far behind it
    auto bytes = load_ranges(*f, p, want, m);
    ASSERT_TRUE(bytes) << bytes.error();
    EXPECT_EQ(*bytes, 6160 * page_size());
    auto r = wait_for_resident(p, 6160);
    EXPECT_EQ(r.ranges, want) << to_string(m) << ": " << r.resident_pages << " pages resident";
  }
}

TEST(Cache, LoadClipsRangesBeyondEndOfFile) {
  test::TempDir dir;
  SKIP_IF_NO_PAGE_CACHE(dir.path());
  std::string p = write_file(dir.path() + "/data", 4);
  ASSERT_TRUE(evict_file(p).ok());
  auto f = open_regular(p);
  ASSERT_TRUE(f);
  auto bytes = load_ranges(*f, p, std::vector<PageRange>{{2, 100}}, LoadMethod::kPopulate);
  ASSERT_TRUE(bytes) << bytes.error();
  EXPECT_EQ(*bytes, 2 * page_size());
}

TEST(Cache, LoadNeverWritesTheFile) {
  test::TempDir dir;
  SKIP_IF_NO_PAGE_CACHE(dir.path());
  std::string p = write_file(dir.path() + "/data", 8);
  ASSERT_EQ(::chmod(p.c_str(), 0400), 0);
  auto before = open_regular(p);
  ASSERT_TRUE(before);
  for (LoadMethod m : {LoadMethod::kWillneed, LoadMethod::kPopulate, LoadMethod::kRead})
    ASSERT_TRUE(load_ranges(*before, p, std::vector<PageRange>{{0, 8}}, m));
  auto after = open_regular(p);
  EXPECT_EQ(after->identity.mtime_ns, before->identity.mtime_ns);
  EXPECT_EQ(after->identity.size, before->identity.size);
}

}  // namespace
}  // namespace coldstart::pagecache
