// What a live process used of its files, read from its page tables (SERIAL:
// evicts a file so that only the touched pages can be mapped).
#include "pagecache/working_set.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pagecache/evict.h"
#include "pagecache_test_util.h"
#include "test_util.h"

namespace coldstart::pagecache {
namespace {

TEST(WorkingSet, PageTablesShowExactlyTheFaultedPages) {
  test::TempDir dir;
  SKIP_IF_NO_PAGE_CACHE(dir.path());
  std::string p = write_file(dir.path() + "/lib.so", 64);
  ASSERT_EQ(evict_file(p).resident_after, 0u);
  auto f = open_regular(p);
  ASSERT_TRUE(f);
  const size_t len = 64 * page_size();
  // Map from file page 8 on, so the offset arithmetic is exercised.
  size_t map_len = len - 8 * page_size();
  auto* base = static_cast<volatile char*>(
      ::mmap(nullptr, map_len, PROT_READ, MAP_PRIVATE, f->fd.get(), static_cast<off_t>(8 * page_size())));
  ASSERT_NE(base, MAP_FAILED);
  // No readahead: only the faulted pages enter the cache, so fault-around finds no neighbours.
  ASSERT_EQ(::madvise(const_cast<char*>(base), map_len, MADV_RANDOM), 0);
  (void)base[0];                     // file page 8
  (void)base[30 * page_size() + 5];  // file page 38
  pid_t self = ::getpid();
  auto touched = touched_files(std::span<const pid_t>(&self, 1));
  ASSERT_TRUE(touched) << touched.error();
  ASSERT_TRUE(touched->mapped.contains(p));
  EXPECT_EQ(touched->mapped.at(p), (std::vector<PageRange>{{8, 1}, {38, 1}}));
  ::munmap(const_cast<char*>(base), map_len);
}

TEST(WorkingSet, OpenFilesAndMappingsAreFound) {
  test::TempDir dir;
  std::string opened = write_file(dir.path() + "/config", 1);
  auto f = open_regular(opened);
  ASSERT_TRUE(f);
  pid_t self = ::getpid();
  auto touched = touched_files(std::span<const pid_t>(&self, 1));
  ASSERT_TRUE(touched);
  EXPECT_TRUE(touched->open_files.contains(opened));
  std::set<std::string> in_use = files_in_use(std::span<const pid_t>(&self, 1));
  EXPECT_TRUE(in_use.contains(opened));
  // The test binary itself is mapped.
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  ASSERT_GT(n, 0);
  EXPECT_TRUE(in_use.contains(std::string(exe, static_cast<size_t>(n))));
}

TEST(WorkingSet, VanishedPidIsSkipped) {
  pid_t none[] = {999999999};
  auto touched = touched_files(none);
  EXPECT_FALSE(touched);  // nothing readable at all is an error with the reason
}

TEST(Maps, ParsesFileLinesOnly) {
  std::string text =
      "55d0c0a00000-55d0c0a02000 r--p 00000000 fe:01 1311                       /usr/bin/app\n"
      "55d0c0a02000-55d0c0a09000 r-xp 00002000 fe:01 1311                       /usr/bin/app\n"
      "7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
      "7f0000100000-7f0000101000 r--p 00000000 00:01 77                         /memfd:x (deleted)\n"
      "7f0000200000-7f0000201000 r--p 00001000 fe:01 42                         /opt/my lib.so\n"
      "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
      "garbage line\n";
  auto maps = parse_maps(text);
  ASSERT_EQ(maps.size(), 3u);
  EXPECT_EQ(maps[1].start, 0x55d0c0a02000u);
  EXPECT_EQ(maps[1].offset, 0x2000u);
  EXPECT_EQ(maps[1].inode, 1311u);
  EXPECT_EQ(maps[2].path, "/opt/my lib.so");
}

}  // namespace
}  // namespace coldstart::pagecache
