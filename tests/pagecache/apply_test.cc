// apply_manifest against real files: loaded, changed, missing and refused
// files, and --lock keeping pages resident (SERIAL suite).
#include "pagecache/apply.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pagecache/evict.h"
#include "pagecache_test_util.h"
#include "test_util.h"

namespace coldstart::pagecache {
namespace {

ManifestFile entry(const std::string& path, std::vector<PageRange> ranges) {
  auto f = open_regular(path);
  if (!f) std::abort();
  return ManifestFile{path, f->identity, std::move(ranges)};
}

Manifest manifest_of(std::vector<ManifestFile> files) {
  Manifest m;
  m.page_size = page_size();
  m.files = std::move(files);
  return m;
}

TEST(Apply, LoadsRecordedRangesOfEveryFile) {
  test::TempDir dir;
  SKIP_IF_NO_PAGE_CACHE(dir.path());
  std::vector<ManifestFile> files;
  for (int i = 0; i < 5; ++i)
    files.push_back(entry(write_file(dir.path() + "/f" + std::to_string(i), 128), {{0, 10}, {64, 6}}));
  Manifest m = manifest_of(files);
  for (const auto& f : m.files) ASSERT_EQ(evict_file(f.path).resident_after, 0u);
  ApplyResult r = apply_manifest(m, {});
  EXPECT_EQ(r.files_loaded, 5u);
  EXPECT_EQ(r.pages, 80u);
  EXPECT_EQ(r.bytes, 80 * page_size());
  EXPECT_TRUE(r.warnings().empty());
  EXPECT_GT(r.seconds, 0);
  for (const auto& f : m.files) {
    auto now = residency(f.path);
    ASSERT_TRUE(now);
    // populate waited for the reads; readahead of the device may add neighbours, never fewer.
    EXPECT_GE(now->resident_pages, 16u) << f.path;
    for (const PageRange& want : f.ranges) {
      bool covered = false;
      for (const PageRange& have : now->ranges)
        covered |= have.first <= want.first && have.end() >= want.end();
      EXPECT_TRUE(covered) << f.path << " page " << want.first;
    }
  }
}

TEST(Apply, ChangedFileIsSkippedWithWarningOthersStillLoaded) {
  test::TempDir dir;
  SKIP_IF_NO_PAGE_CACHE(dir.path());
  Manifest m = manifest_of({entry(write_file(dir.path() + "/same", 8), {{0, 8}}),
                            entry(write_file(dir.path() + "/grown", 8), {{0, 8}})});
  write_file(dir.path() + "/grown", 9);  // same inode (O_TRUNC), new size and mtime
  ApplyResult r = apply_manifest(m, {});
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.files[0].status, FileApplied::Status::kLoaded);
  EXPECT_EQ(r.files[1].status, FileApplied::Status::kChanged);
  EXPECT_NE(r.files[1].message.find("changed since recording (size 32768 -> 36864, mtime changed), skipped"),
            std::string::npos)
      << r.files[1].message;
  EXPECT_EQ(r.files_loaded, 1u);
  EXPECT_EQ(r.warnings().size(), 1u);
}

TEST(Apply, ReplacedFileIsDetectedByInode) {
  test::TempDir dir;
  std::string p = write_file(dir.path() + "/bin", 8);
  Manifest m = manifest_of({entry(p, {{0, 8}})});
  std::string tmp = write_file(dir.path() + "/bin.new", 8);
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  timespec times[2] = {st.st_atim, st.st_mtim};  // same size and mtime: only the inode differs
  ASSERT_EQ(::utimensat(AT_FDCWD, tmp.c_str(), times, 0), 0);
  ASSERT_EQ(::rename(tmp.c_str(), p.c_str()), 0);
  ApplyResult r = apply_manifest(m, {});
  EXPECT_EQ(r.files[0].status, FileApplied::Status::kChanged);
  EXPECT_NE(r.files[0].message.find("inode"), std::string::npos);
}

TEST(Apply, MissingAndRefusedFilesAreWarningsNotFailures) {
  test::TempDir dir;
  std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Manifest m = manifest_of({entry(write_file(dir.path() + "/ok", 4), {{0, 4}})});
  m.files.push_back({dir.path() + "/gone", {1, 2, 4096, 0}, {{0, 1}}});
  m.files.push_back({fifo, {1, 2, 4096, 0}, {{0, 1}}});
  ApplyResult r = apply_manifest(m, {});
  EXPECT_EQ(r.files[0].status, FileApplied::Status::kLoaded);
  EXPECT_EQ(r.files[1].status, FileApplied::Status::kMissing);
  EXPECT_EQ(r.files[1].message, dir.path() + "/gone: missing, skipped");
  EXPECT_EQ(r.files[2].status, FileApplied::Status::kRefused);
  EXPECT_NE(r.files[2].message.find("a FIFO, refused"), std::string::npos);
  EXPECT_EQ(r.warnings().size(), 2u);
}

TEST(Apply, LockKeepsPagesResidentAgainstEviction) {
  test::TempDir dir;
  SKIP_IF_NO_PAGE_CACHE(dir.path());
  Manifest m = manifest_of({entry(write_file(dir.path() + "/a", 32), {{0, 8}, {16, 8}})});
  {
    ApplyOptions opts;
    opts.lock = true;
    ApplyResult r = apply_manifest(m, opts);
    EXPECT_TRUE(r.warnings().empty()) << r.warnings().front();
    EXPECT_EQ(r.locked.locked_bytes(), 16 * page_size());
    EvictOutcome e = evict_file(m.files[0].path);
    EXPECT_GE(e.resident_after, 16u);  // folios may be larger than a page
    EXPECT_LT(e.resident_after, 32u);
  }  // unlocked and unmapped here
  EXPECT_EQ(evict_file(m.files[0].path).resident_after, 0u);
}

TEST(Apply, EveryMethodAndThreadCountLoadsTheSameBytes) {
  test::TempDir dir;
  SKIP_IF_NO_PAGE_CACHE(dir.path());
  std::vector<ManifestFile> files;
  for (int i = 0; i < 3; ++i)
    files.push_back(entry(write_file(dir.path() + "/f" + std::to_string(i), 20), {{1, 5}}));
  Manifest m = manifest_of(files);
  for (LoadMethod method : {LoadMethod::kWillneed, LoadMethod::kPopulate, LoadMethod::kRead}) {
    for (unsigned threads : {1U, 2U, 16U}) {
      ApplyResult r = apply_manifest(m, {method, threads, false});
      EXPECT_EQ(r.bytes, 15 * page_size()) << to_string(method) << " " << threads;
      EXPECT_EQ(r.method, method);
    }
  }
}

}  // namespace
}  // namespace coldstart::pagecache
