// Range arithmetic and opening rules of the page-cache layer (no cache state).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/unique_fd.h"
#include "pagecache/apply.h"
#include "pagecache/page_trace.h"
#include "pagecache/residency.h"
#include "test_util.h"

namespace coldstart::pagecache {
namespace {

TEST(Ranges, NormalizeSortsMergesTouchingAndDropsEmpty) {
  auto r = normalize({{10, 2}, {0, 3}, {3, 1}, {12, 0}, {11, 5}, {40, 1}});
  EXPECT_EQ(r, (std::vector<PageRange>{{0, 4}, {10, 6}, {40, 1}}));
  EXPECT_EQ(total_pages(r), 11u);
}

TEST(Ranges, BitmapCoalescesResidentRuns) {
  std::vector<unsigned char> bits{1, 1, 0, 0, 1, 0, 3, 1, 1, 0};  // only bit 0 counts
  EXPECT_EQ(ranges_from_bitmap(bits), (std::vector<PageRange>{{0, 2}, {4, 1}, {6, 3}}));
  EXPECT_TRUE(ranges_from_bitmap(std::vector<unsigned char>{2, 0, 2}).empty());
}

TEST(Ranges, IntersectOverlapAndUniteWalkBothLists) {
  std::vector<PageRange> a{{0, 4}, {10, 6}, {40, 1}}, b{{2, 10}, {15, 30}};
  EXPECT_EQ(intersect(a, b), (std::vector<PageRange>{{2, 2}, {10, 2}, {15, 1}, {40, 1}}));
  EXPECT_EQ(overlap(a, b), 6u);
  EXPECT_EQ(overlap(a, std::vector<PageRange>{}), 0u);
  EXPECT_EQ(unite(a, b), (std::vector<PageRange>{{0, 45}}));
  EXPECT_EQ(unite(std::vector<PageRange>{{0, 1}}, std::vector<PageRange>{{5, 1}}),
            (std::vector<PageRange>{{0, 1}, {5, 1}}));
}

TEST(Ranges, FillGapsFillsOnlyInnerGapsUpToTheBound) {
  std::vector<PageRange> r{{5, 4}, {10, 6}, {40, 1}, {57, 3}};  // gaps of 1, 24 and 16 pages
  EXPECT_EQ(fill_gaps(r, 0), r);
  EXPECT_EQ(fill_gaps(r, 1), (std::vector<PageRange>{{5, 11}, {40, 1}, {57, 3}}));
  EXPECT_EQ(fill_gaps(r, 16), (std::vector<PageRange>{{5, 11}, {40, 20}}));
  EXPECT_EQ(fill_gaps(r, 1000), (std::vector<PageRange>{{5, 55}}));  // never before page 5 or after 59
  EXPECT_TRUE(fill_gaps(std::vector<PageRange>{}, 64).empty());
}

TEST(Ranges, FillWithinFillsEveryGapBetweenTheFirstAndLastPageInsideTheSpan) {
  std::vector<PageRange> r{{0, 4}, {10, 6}, {300, 2}, {900, 10}};  // gaps of 6, 284 and 598 pages
  // Span 12..905: from page 12 (inside {10, 6}) to 904 (inside {900, 10}).
  EXPECT_EQ(fill_within(r, {12, 893}), (std::vector<PageRange>{{0, 4}, {10, 900}}));
  // Span 5..400 holds pages 10..15 and 300..301: only the gap between them;
  // nothing before page 10 or after 301 although the span reaches further.
  EXPECT_EQ(fill_within(r, {5, 395}), (std::vector<PageRange>{{0, 4}, {10, 292}, {900, 10}}));
  EXPECT_EQ(fill_within(r, {400, 100}), r);  // no recorded page inside: nothing
  EXPECT_EQ(fill_within(r, {300, 1}), r);
  EXPECT_TRUE(fill_within(std::vector<PageRange>{}, {0, 100}).empty());
}

TEST(Ranges, ClipToCutsAtTheFilesLastPage) {
  std::vector<PageRange> r{{0, 4}, {10, 6}, {40, 1}};
  EXPECT_EQ(clip_to(r, 12), (std::vector<PageRange>{{0, 4}, {10, 2}}));
  EXPECT_EQ(clip_to(r, 10), (std::vector<PageRange>{{0, 4}}));
  EXPECT_TRUE(clip_to(r, 0).empty());
}

TEST(PageEvents, FoldKeepsFaultsReadsAndFaultAroundOfAddedPages) {
  using K = PageEvent::Kind;
  std::vector<PageEvent> ev{
      {K::kAdded, 1, 7, 0, 32},         // readahead brought pages 0-31
      {K::kFaulted, 1, 7, 5, 1},        // the start needed page 5
      {K::kFaultAround, 1, 7, 24, 16},  // mapped 24-39: only 24-31 were cached (added)
      {K::kRead, 1, 7, 10, 2},          // read() asked for pages 10 and 11
      {K::kFaultAround, 1, 8, 0, 16},   // another file, nothing added: nothing needed
  };
  auto f = fold_page_events(ev);
  ASSERT_EQ(f.size(), 1u);
  const TracedFile& t = f.at({1, 7});
  EXPECT_EQ(t.added, (std::vector<PageRange>{{0, 32}}));
  EXPECT_EQ(t.used, (std::vector<PageRange>{{5, 1}, {10, 2}, {24, 8}}));
}

TEST(Ranges, IdentityChangeNamesWhatChanged) {
  FileIdentity a{1, 100, 4096, 5}, b = a;
  EXPECT_EQ(identity_change(a, b), "");
  b.device = 9;  // device numbers may differ across reboots: not a change
  EXPECT_EQ(identity_change(a, b), "");
  b.size = 5000;
  b.inode = 101;
  b.mtime_ns = 6;
  EXPECT_EQ(identity_change(a, b), "inode 100 -> 101, size 4096 -> 5000, mtime changed");
}

TEST(OpenRegular, RefusesFifoWithoutHanging) {
  test::TempDir dir;
  std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = open_regular(fifo);  // a blocking open would hang here: no writer exists
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("a FIFO, refused"), std::string::npos) << r.error();
}

TEST(OpenRegular, RefusesSocketDeviceAndDirectory) {
  test::TempDir dir;
  std::string sock_path = dir.path() + "/sock";
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto s = open_regular(sock_path);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("a socket, refused"), std::string::npos) << s.error();
  auto d = open_regular("/dev/null");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().find("a character device, refused"), std::string::npos) << d.error();
  auto dd = open_regular(dir.path());
  ASSERT_FALSE(dd);
  EXPECT_NE(dd.error().find("a directory"), std::string::npos);
  auto missing = open_regular(dir.path() + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("No such file"), std::string::npos);
}

TEST(OpenRegular, RecordsIdentity) {
  test::TempDir dir;
  std::string p = dir.path() + "/f";
  {
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_EQ(::write(fd.get(), "hello", 5), 5);
  }
  auto f = open_regular(p);
  ASSERT_TRUE(f) << f.error();
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(f->identity.size, 5u);
  EXPECT_EQ(f->identity.inode, st.st_ino);
  EXPECT_EQ(f->identity.device, st.st_dev);
  EXPECT_EQ(f->identity.mtime_ns, st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
}

}  // namespace
}  // namespace coldstart::pagecache
