// Go build info equals `go version -m` on the Go fixtures (pointer-free
// format, Go >= 1.18) and on a binary carrying the older pointer format,
// which gcc builds here from C so the test does not need an old Go.
#include "elf/go_buildinfo.h"

#include <gtest/gtest.h>

#include <sstream>

#include "elf/elf.h"
#include "elf_testing.h"

namespace coldstart {
namespace {

struct GoVersionM {
  std::string version;
  std::vector<std::string> lines;
};

GoVersionM go_version_m(const std::string& file) {
  auto r = test::run_shell("GOTOOLCHAIN=local GOFLAGS= go version -m '" + file + "'");
  GoVersionM out;
  std::istringstream in(r.out);
  std::string line;
  if (std::getline(in, line)) out.version = line.substr(line.rfind(": ") + 2);
  while (std::getline(in, line))
    if (line.starts_with("\t")) out.lines.push_back(line.substr(1));
  return out;
}

TEST(GoBuildInfo, EqualsGoVersionMOnFixtures) {
  for (const char* n : {"go-user-service-static", "go-user-service-cgo", "go-user-service-pie",
                        "go-user-service-extstatic"}) {
    std::string f = test::fixture(n);
    SCOPED_TRACE(f);
    auto info = elf::read_go_buildinfo(elf::ElfFile::open(f));
    ASSERT_TRUE(info.has_value());
    GoVersionM expected = go_version_m(f);
    EXPECT_EQ(info->go_version, expected.version);
    EXPECT_EQ(info->modinfo_lines, expected.lines);
    EXPECT_EQ(info->format, "inline");
    EXPECT_EQ(info->pointer_size, 8u);
    EXPECT_EQ(info->path, "example.com/coldstart/go-user-service");
    EXPECT_EQ(elf::read_elf(f).go_version, expected.version);
  }
  auto cgo = elf::read_go_buildinfo(elf::ElfFile::open(test::fixture("go-user-service-cgo")));
  auto pure = elf::read_go_buildinfo(elf::ElfFile::open(test::fixture("go-user-service-static")));
  EXPECT_EQ(cgo->setting("CGO_ENABLED"), "1");
  EXPECT_EQ(pure->setting("CGO_ENABLED"), "0");
  EXPECT_EQ(pure->setting("GOARCH"), "amd64");
  EXPECT_FALSE(elf::read_go_buildinfo(elf::ElfFile::open(test::fixture("user-service"))).has_value());
}

// The pre-1.18 layout: header, then pointers to Go string headers {ptr, len}.
// In a non-PIE executable the linker resolves those pointers into the file.
// The module text is what Go 1.19's BuildInfo.String() writes (it puts an
// empty line after a "=>" replacement line), so `go version -m` reprints it as is.
constexpr const char* kPointerFormat = R"(
#include <stddef.h>
struct gostring { const char* p; long n; };
static const char version[] = "go1.16.15";
static const char mod[] = "0\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6"
    "path\texample.com/old\nmod\texample.com/old\t(devel)\t\n"
    "dep\tgolang.org/x/sys\tv0.1.0\n=>\t../sys\t\t\n\nbuild\t-compiler=gc\n"
    "build\t-ldflags=\"-s -w\"\n"
    "\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2";
const struct gostring vs = {version, sizeof version - 1};
const struct gostring ms = {mod, sizeof mod - 1};
struct blob { char magic[14]; char ptrsize; char flags; const struct gostring* v; const struct gostring* m; char pad[8]; };
__attribute__((section(".go.buildinfo"), aligned(16), used))
const struct blob buildinfo = {"\xff Go buildinf:", 8, 0, &vs, &ms, {0}};
int main(void) { return 0; }
)";

TEST(GoBuildInfo, PointerFormatEqualsGoVersionM) {
  test::TempDir dir;
  ASSERT_EQ(test::compile_c(dir.path(), "oldgo", kPointerFormat, "-no-pie"), 0);
  std::string f = dir.path() + "/oldgo";
  auto info = elf::read_go_buildinfo(elf::ElfFile::open(f));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->format, "pointer");
  EXPECT_EQ(info->go_version, "go1.16.15");
  GoVersionM expected = go_version_m(f);
  EXPECT_EQ(info->go_version, expected.version);
  EXPECT_EQ(info->modinfo_lines, expected.lines);
  ASSERT_EQ(info->deps.size(), 1u);
  EXPECT_EQ(info->deps[0].replaced_by_path, "../sys");
  EXPECT_EQ(info->setting("-ldflags"), "-s -w");
  EXPECT_TRUE(elf::read_elf(f).is_go);
}

TEST(GoBuildInfo, BadBlobsAreNotGo) {
  auto none = [](uint64_t, uint64_t) { return std::optional<std::span<const std::byte>>(); };
  auto parse = [&](const std::string& s) {
    return elf::parse_go_buildinfo(std::as_bytes(std::span(s.data(), s.size())), none);
  };
  std::string header = std::string("\xff Go buildinf:", 14) + "\x08\x02" + std::string(16, '\0');
  EXPECT_FALSE(parse("").has_value());
  EXPECT_FALSE(parse(header.substr(0, 20)).has_value());                // truncated header
  EXPECT_FALSE(parse(header + "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f").has_value());  // huge varint
  EXPECT_FALSE(parse(header + "\x05go1").has_value());                 // length past the end
  auto ok = parse(header + "\x08go1.21.0");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->go_version, "go1.21.0");
  EXPECT_TRUE(ok->modinfo_lines.empty());
  // Misaligned magic is ignored, as in debug/buildinfo.
  EXPECT_FALSE(parse("x" + header + "\x08go1.21.0").has_value());
  // Pointer format whose pointers lead nowhere.
  std::string ptr = std::string("\xff Go buildinf:", 14) + "\x08" + '\0' + std::string(16, '\x41');
  EXPECT_FALSE(parse(ptr).has_value());
}

}  // namespace
}  // namespace coldstart
