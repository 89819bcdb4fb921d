// The manifest format: round trip, page-size conversion, and every way a
// manifest can be rejected (one line naming the file and the reason).
#include "pagecache/manifest.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace coldstart::pagecache {
namespace {

Manifest sample() {
  Manifest m;
  m.page_size = 4096;
  m.command = {"/srv/app", "--port", "80"};
  m.recorded_with = "pagemap";
  m.files.push_back({"/srv/app", {2049, 77, 10000, 1700000000123456789}, {{0, 1}, {2, 1}}});
  m.files.push_back({"/lib/x86_64-linux-gnu/libc.so.6", {2049, 78, 2000000, -5}, {{0, 16}, {100, 20}}});
  return m;
}

std::string parse_error(const std::string& text) {
  try {
    parse_manifest(text, "m.json");
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(Manifest, RoundTripsEveryField) {
  Manifest m = sample();
  Manifest back = parse_manifest(manifest_to_json(m), "x");
  EXPECT_EQ(back.page_size, 4096u);
  EXPECT_EQ(back.command, m.command);
  EXPECT_EQ(back.recorded_with, "pagemap");
  ASSERT_EQ(back.files.size(), 2u);
  EXPECT_EQ(back.files[0].path, "/srv/app");
  EXPECT_EQ(back.files[0].identity.mtime_ns, 1700000000123456789);
  EXPECT_EQ(back.files[1].identity.mtime_ns, -5);
  EXPECT_EQ(back.files[1].identity.inode, 78u);
  EXPECT_EQ(back.files[1].ranges, (std::vector<PageRange>{{0, 16}, {100, 20}}));
  EXPECT_EQ(back.total_pages(), 38u);
  // file 0: pages 0 and 2 of a 10000-byte file = 4096 + (10000-8192)
  EXPECT_EQ(back.total_bytes(), 4096u + 1808u + 36u * 4096u);
  EXPECT_EQ(manifest_to_json(back), manifest_to_json(m));
}

TEST(Manifest, RoundTripsTheRecordingObject) {
  Manifest m = sample();
  m.recording = Manifest::Recording{3, "traced", "pagemap+filemap-trace", 12, 1120, 1215};
  m.recording->gap_fill_pages = 64;
  m.recording->pages_gap_filled = 412;
  m.recording->pages_table_filled = 1071;
  Manifest back = parse_manifest(manifest_to_json(m), "x");
  ASSERT_TRUE(back.recording);
  EXPECT_EQ(back.recording->starts, 3);
  EXPECT_EQ(back.recording->discovery, "traced");
  EXPECT_EQ(back.recording->method, "pagemap+filemap-trace");
  EXPECT_EQ(back.recording->pages_traced_only, 12u);
  EXPECT_EQ(back.recording->pages_in_every, 1120u);
  EXPECT_EQ(back.recording->pages_in_some, 1215u);
  EXPECT_EQ(back.recording->gap_fill_pages, 64u);
  EXPECT_EQ(back.recording->pages_gap_filled, 412u);
  EXPECT_EQ(back.recording->pages_table_filled, 1071u);
}

TEST(Manifest, EmptyFileListIsValid) {
  Manifest m;
  m.page_size = 4096;
  EXPECT_TRUE(parse_manifest(manifest_to_json(m), "x").files.empty());
}

TEST(Manifest, RangesAreNormalizedOnRead) {
  std::string text = R"({"format":"coldstart-prewarm-manifest","version":1,"page_size":4096,
    "files":[{"path":"/a","device":1,"inode":2,"size":409600,"mtime_ns":3,"ranges":[[5,2],[0,3],[3,2]]}]})";
  EXPECT_EQ(parse_manifest(text, "x").files[0].ranges, (std::vector<PageRange>{{0, 7}}));
}

TEST(Manifest, LocalRangesConvertPageSizes) {
  ManifestFile f{"/a", {1, 2, 1 << 20, 0}, {{1, 1}, {3, 2}}};  // 16 KiB pages: bytes [16K,32K) and [48K,80K)
  std::vector<PageRange> r = local_ranges(f, 16384);
  uint64_t p = page_size();
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.front().first * p, 16384u);
  EXPECT_EQ(r.back().end() * p, 81920u);
  EXPECT_EQ(local_ranges(f, p), f.ranges);
}

TEST(Manifest, NotJsonSaysSo) {
  std::string e = parse_error("{\"format\": ");
  EXPECT_TRUE(e.starts_with("m.json: not JSON: ")) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(Manifest, WrongShapesAreNotOurFormat) {
  const std::string head = R"({"format":"coldstart-prewarm-manifest","version":1,"page_size":4096,"files":)";
  const std::pair<std::string, std::string> cases[] = {
      {"[]", "the top level is not an object"},
      {R"({"format":"other"})", "\"format\" is not"},
      {R"({"format":"coldstart-prewarm-manifest","version":2})", "unsupported \"version\""},
      {R"({"format":"coldstart-prewarm-manifest","version":1,"page_size":3000,"files":[]})",
       "page_size 3000"},
      {R"({"format":"coldstart-prewarm-manifest","version":1,"page_size":4096})", "\"files\" missing"},
      {head + "[1]}", "files[0] is not an object"},
      {head + R"([{"path":"rel","device":1,"inode":1,"size":1,"mtime_ns":1,"ranges":[]}]})",
       "not an absolute path"},
      {head + R"([{"path":"/a","device":-1,"inode":1,"size":1,"mtime_ns":1,"ranges":[]}]})",
       "\"device\" is not"},
      {head + R"([{"path":"/a","device":1,"inode":1,"size":1,"ranges":[]}]})", "missing \"mtime_ns\""},
      {head + R"([{"path":"/a","device":1,"inode":1,"size":4096,"mtime_ns":1,"ranges":[[0,2]]}]})",
       "beyond the file's 1 pages"},
      {head + R"([{"path":"/a","device":1,"inode":1,"size":4096,"mtime_ns":1,"ranges":[[0,0]]}]})",
       "is empty"},
      {head +
           R"([{"path":"/a","device":1,"inode":1,"size":4096,"mtime_ns":1,"ranges":[[18446744073709551615,2]]}]})",
       "beyond"},
      {head + R"([{"path":"/a","device":1,"inode":1,"size":4096,"mtime_ns":1,"ranges":[[0]]}]})",
       "is not [first_page, page_count]"},
      {head + R"([{"path":"/a","device":1,"inode":1,"size":18446744073709551615,"mtime_ns":1,"ranges":[]}]})",
       "implausibly large"},
  };
  for (const auto& [text, want] : cases) {
    std::string e = parse_error(text);
    EXPECT_TRUE(e.starts_with("m.json: not a coldstart prewarm manifest: ")) << text << " -> " << e;
    EXPECT_NE(e.find(want), std::string::npos) << text << " -> " << e;
  }
}

}  // namespace
}  // namespace coldstart::pagecache
