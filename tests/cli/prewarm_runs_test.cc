// `prewarm record --runs N`: the union of N starts is stable from one record
// to the next, and the manifest says how it was made.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace coldstart {
namespace {

using nlohmann::json;

// Every (file, page) of a manifest.
std::set<std::pair<std::string, uint64_t>> pages_of(const json& m) {
  std::set<std::pair<std::string, uint64_t>> out;
  for (const json& f : m["files"]) {
    for (const json& r : f["ranges"]) {
      for (uint64_t p = r[0].get<uint64_t>(); p < r[0].get<uint64_t>() + r[1].get<uint64_t>(); ++p)
        out.emplace(f["path"].get<std::string>(), p);
    }
  }
  return out;
}

TEST(PrewarmRuns, TwoRecordsOfThreeStartsDifferByAFewPages) {
  test::TempDir dir;
  // A private copy: a recording evicts its files, other tests use the fixture.
  std::string bin = test::copy_fixture(dir, "go-user-service-static");
  std::vector<std::set<std::pair<std::string, uint64_t>>> sets;
  for (int i = 0; i < 2; ++i) {
    std::string m = dir.path() + "/m" + std::to_string(i) + ".json";
    auto r = test::run_shell("ADDR=127.0.0.1:0 " + test::cs("prewarm record --runs 3 --ready notify -o " + m + " -- " + bin));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("in every one of 3 starts"), std::string::npos) << r.out;
    json j = json::parse(test::read_text(m));
    ASSERT_TRUE(j.contains("recording")) << j.dump();
    EXPECT_EQ(j["recording"]["starts"], 3);
    EXPECT_LE(j["recording"]["pages_in_every"].get<uint64_t>(), j["recording"]["pages_in_some"].get<uint64_t>());
    // Root with BTF here: the page tracer runs (else the warning says why).
    EXPECT_EQ(j["recording"]["method"], "pagemap+filemap-trace") << r.err;
    EXPECT_EQ(j["recorded_with"], "pagemap+filemap-trace");
    sets.push_back(pages_of(j));
  }
  std::vector<std::pair<std::string, uint64_t>> only_one;
  std::set_symmetric_difference(sets[0].begin(), sets[0].end(), sets[1].begin(), sets[1].end(),
                                std::back_inserter(only_one));
  ASSERT_GT(sets[0].size(), 50u);
  // Measured: the static Go fixture records ~500 pages; two unions of three
  // starts differ by a handful. Wide margin: 5% of the set.
  EXPECT_LE(only_one.size(), sets[0].size() / 20) << only_one.size() << " of " << sets[0].size() << " pages differ";
}

// A file the start reads in part with read() and closes before ready is in
// no page table: the page tracer records the pages read, where residency
// would record what readahead brought along (8 MiB windows on this disk).
TEST(PrewarmRuns, AFileReadInPartIsRecordedByThePagesRead) {
  test::TempDir dir;
  std::string data = dir.path() + "/data.bin";
  test::write_file(data, std::string(4 << 20, 'x'));  // 1,024 pages
  std::string m = dir.path() + "/m.json";
  // dd reads 2 pages at page 256 (1 MiB) and exits: --ready exit, so the tree
  // is gone at ready and only the tracer (or residency) can say what it read.
  auto r = test::run_shell(test::cs("prewarm record --runs 1 -o " + m +
                                    " -- /bin/dd if=" + data + " bs=4096 skip=256 count=2 of=/dev/null status=none"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(test::read_text(m));
  EXPECT_EQ(j["recorded_with"], "filemap-trace") << r.err;
  EXPECT_EQ(j["recording"]["method"], "filemap-trace");
  const json* file = nullptr;
  for (const json& f : j["files"])
    if (f["path"] == data) file = &f;
  ASSERT_NE(file, nullptr) << j.dump();
  EXPECT_EQ((*file)["ranges"], json::parse("[[256, 2]]")) << file->dump();
}

// --fill-gaps: the gap of 2 pages between two reads is filled, the gap of 94
// pages is not, the manifest says so, and apply loads the filled pages (and
// not the rest of the file).
TEST(PrewarmRuns, FillGapsFillsSmallGapsBetweenRecordedRangesAndApplyLoadsThem) {
  test::TempDir dir;
  std::string data = dir.path() + "/data.bin";
  test::write_file(data, std::string(4 << 20, 'x'));  // 1,024 pages
  auto dd = [&](int skip, int count) {
    return fmt::format("/bin/dd if={} bs=4096 skip={} count={} of=/dev/null status=none", data, skip, count);
  };
  std::string script = "'" + dd(0, 2) + "; " + dd(4, 2) + "; " + dd(100, 1) + "'";
  std::map<int, json> ranges;
  for (int fill : {0, 8}) {
    std::string m = dir.path() + "/m" + std::to_string(fill) + ".json";
    auto r = test::run_shell(
        test::cs(fmt::format("prewarm record --runs 1 --fill-gaps {} -o {} -- /bin/sh -c {}", fill, m, script)));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(test::read_text(m));
    EXPECT_EQ(j["recording"]["gap_fill_pages"], fill);
    for (const json& f : j["files"])
      if (f["path"] == data) ranges[fill] = f["ranges"];
    if (fill > 0) {
      EXPECT_GE(j["recording"]["pages_gap_filled"].get<uint64_t>(), 2u) << j["recording"].dump();
      EXPECT_NE(r.out.find("filling gaps of at most 8 pages"), std::string::npos) << r.out;
    }
  }
  EXPECT_EQ(ranges[0], json::parse("[[0, 2], [4, 2], [100, 1]]"));
  EXPECT_EQ(ranges[8], json::parse("[[0, 6], [100, 1]]"));
  ASSERT_EQ(test::run_shell(test::cs("prewarm evict --files " + data)).exit_code, 0);
  auto applied = test::run_shell(test::cs("prewarm apply " + dir.path() + "/m8.json"));
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  auto status = test::run_shell(test::cs("prewarm status --files --json " + data));
  ASSERT_EQ(status.exit_code, 0) << status.err;
  uint64_t resident = json::parse(status.out)["resident_pages"].get<uint64_t>();
  EXPECT_GE(resident, 7u) << status.out;   // pages 0-5 (2-3 only by the filling) and 100
  EXPECT_LT(resident, 100u) << status.out;  // not the file's readahead (8 MiB windows here)
}

// The pages of a file's .gopclntab, from readelf (an independent reader).
std::pair<uint64_t, uint64_t> pclntab_pages(const std::string& bin) {
  auto r = test::run_shell("readelf -SW " + bin +
                           " | sed -n 's/.* \\.gopclntab  *PROGBITS  *[0-9a-f]*  *\\([0-9a-f]*\\)  *\\([0-9a-f]*\\) .*/\\1 \\2/p'");
  uint64_t off = 0, size = 0;
  EXPECT_EQ(std::sscanf(r.out.c_str(), "%lx %lx", &off, &size), 2) << r.out;
  return {off / 4096, (off + size + 4095) / 4096};
}

// Go's function table is filled between its first and last recorded pages
// whatever the gaps' size (--fill-gaps 1 here fills no gap elsewhere), and
// --fill-gaps 0 fills nothing.
TEST(PrewarmRuns, GoFunctionTableIsRecordedWithoutGaps) {
  test::TempDir dir;
  std::string bin = test::copy_fixture(dir, "go-user-service-static");  // a recording evicts it
  auto [table_first, table_end] = pclntab_pages(bin);
  ASSERT_LT(table_first, table_end);
  for (int fill : {0, 1}) {
    SCOPED_TRACE(fill);
    std::string m = dir.path() + "/m" + std::to_string(fill) + ".json";
    auto r = test::run_shell("ADDR=127.0.0.1:0 " +
                             test::cs(fmt::format("prewarm record --runs 1 --fill-gaps {} --ready notify -o {} -- {}",
                                                  fill, m, bin)));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(test::read_text(m));
    std::vector<std::pair<uint64_t, uint64_t>> in_table;  // [first, end) of each range, cut to the table
    for (const json& f : j["files"]) {
      if (f["path"] != bin) continue;
      for (const json& range : f["ranges"]) {
        uint64_t first = std::max(range[0].get<uint64_t>(), table_first);
        uint64_t end = std::min(range[0].get<uint64_t>() + range[1].get<uint64_t>(), table_end);
        if (first < end) in_table.emplace_back(first, end);
      }
    }
    ASSERT_FALSE(in_table.empty()) << j.dump();  // the runtime reads its table at every start
    uint64_t table_filled = j["recording"]["pages_table_filled"].get<uint64_t>();
    if (fill == 0) {
      EXPECT_EQ(table_filled, 0u);
      // What the filling is for: a start reads the table with holes.
      EXPECT_GT(in_table.size(), 1u) << j.dump();
    } else {
      EXPECT_GT(table_filled, 0u) << j["recording"].dump();
      EXPECT_EQ(in_table.size(), 1u) << j.dump();
      EXPECT_NE(r.out.find("filling the gaps inside Go's function table"), std::string::npos) << r.out;
    }
  }
}

TEST(PrewarmRuns, BadFillGapsIsExit2) {
  auto r = test::run_shell(test::cs("prewarm record --fill-gaps -1 -o /dev/null -- /bin/true"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("coldstart: error: bad --fill-gaps '-1'"), std::string::npos) << r.err;
}

// An image's record is one start as it was (the share of the image it
// touched): --runs and --fill-gaps would be silently ignored there.
TEST(PrewarmRuns, RunsAndFillGapsWithAnImageAreExit2) {
  for (const char* flag : {"--runs 2", "--fill-gaps 8"}) {
    auto r = test::run_shell(test::cs(std::string("prewarm record --image /nonexistent.oci.tar ") + flag +
                                      " -o /dev/null"));
    EXPECT_EQ(r.exit_code, 2) << flag;
    EXPECT_NE(r.err.find("coldstart: error: prewarm record --image records one start"), std::string::npos)
        << flag << ": " << r.err;
  }
}

TEST(PrewarmRuns, BadRunsIsExit2) {
  auto r = test::run_shell(test::cs("prewarm record --runs 0 -o /dev/null -- /bin/true"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("coldstart: error: bad --runs '0'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace coldstart
