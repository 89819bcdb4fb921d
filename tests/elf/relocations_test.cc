// The relocation census equals `readelf -rW`, per table and per type, on the
// fixtures, on a RELR binary built here, and on every ELF of /usr/bin.
#include "elf/relocations.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "elf_testing.h"

namespace coldstart {
namespace {

/// What readelf says about one file: entries per table, count per type name,
/// and the RELR offsets count.
struct ReadelfRelocs {
  std::map<std::string, uint64_t> entries;  // table name -> "contains N entries"
  std::map<std::string, uint64_t> by_type;
  uint64_t relr_offsets = 0;
};

// Runs `readelf -rW` over many files at once (one process per batch) and
// splits its output at the "File: " headers.
std::map<std::string, ReadelfRelocs> readelf_relocs(const std::vector<std::string>& files) {
  std::map<std::string, ReadelfRelocs> out;
  for (size_t start = 0; start < files.size(); start += 200) {
    std::string cmd = "LC_ALL=C readelf -rW";
    size_t end = std::min(files.size(), start + 200);
    for (size_t i = start; i < end; ++i) cmd += " '" + files[i] + "'";
    auto r = test::run_shell(cmd);
    std::istringstream in(r.out);
    std::string line, current = end - start == 1 ? files[start] : "", table;
    bool in_relr = false;
    while (std::getline(in, line)) {
      if (line.starts_with("File: ")) {
        current = line.substr(6);
        continue;
      }
      if (line.starts_with("Relocation section '")) {
        size_t q = line.find('\'', 20);
        table = line.substr(20, q - 20);
        size_t c = line.find(" contains ");
        out[current].entries[table] = std::stoull(line.substr(c + 10));
        in_relr = table.starts_with(".relr");
        continue;
      }
      std::istringstream words(line);
      std::string a, b, type;
      words >> a >> b;
      if (in_relr && b == "offsets") {
        out[current].relr_offsets += std::stoull(a);
        continue;
      }
      if (in_relr || a == "Offset" || line.empty()) continue;
      words >> type;
      if (type.starts_with("R_X86_64_")) ++out[current].by_type[type];
    }
  }
  return out;
}

void expect_census_equals_readelf(const std::vector<std::string>& files) {
  auto expected = readelf_relocs(files);
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    elf::RelocationCensus c = elf::count_relocations(elf::ElfFile::open(f));
    const ReadelfRelocs& e = expected[f];
    std::map<std::string, uint64_t> entries;
    for (const auto& t : c.tables) entries[t.name] = t.entries;
    EXPECT_EQ(entries, e.entries);
    EXPECT_EQ(c.by_type, e.by_type);
    EXPECT_EQ(c.relr_relocations, e.relr_offsets);
  }
}

TEST(Relocations, EqualReadelfOnEveryFixture) {
  expect_census_equals_readelf(test::elf_fixtures());
  // The Go PIE carries thousands of RELATIVE relocations; the non-PIE cgo build almost none.
  auto pie = elf::count_relocations(elf::ElfFile::open(test::fixture("go-user-service-pie")));
  auto cgo = elf::count_relocations(elf::ElfFile::open(test::fixture("go-user-service-cgo")));
  EXPECT_GT(pie.relative, 1000u);
  EXPECT_GT(pie.relative, 10 * cgo.total());
}

TEST(Relocations, RelrIsExpandedLikeReadelf) {
  test::TempDir dir;
  // Many pointers to data in a PIE: the linker packs their RELATIVE relocations into RELR bitmaps.
  std::string src = "int a[64]; int *p[] = {";
  for (int i = 0; i < 64; ++i) src += "&a[" + std::to_string(i) + "],";
  src += "}; int main(void){ return *p[3]; }\n";
  ASSERT_EQ(test::compile_c(dir.path(), "relr", src, "-fPIE -pie -Wl,-z,pack-relative-relocs"), 0);
  std::string f = dir.path() + "/relr";
  auto c = elf::count_relocations(elf::ElfFile::open(f));
  EXPECT_GT(c.relr_words, 0u);
  EXPECT_GE(c.relr_relocations, 64u);
  EXPECT_LT(c.relr_words, c.relr_relocations);  // bitmaps: fewer words than relocations
  expect_census_equals_readelf({f});
}

TEST(Relocations, EqualReadelfOnEveryElfInUsrBin) {
  auto files = test::usr_bin_elves();
  ASSERT_GE(files.size(), 100u);
  expect_census_equals_readelf(files);
}

TEST(Relocations, WithoutSectionHeadersTheDynamicTableIsUsed) {
  // Zeroing e_shoff/e_shnum (what sstrip does) leaves the loader's view intact.
  test::TempDir dir;
  std::string bytes = test::read_bytes(test::fixture("user-service"));
  auto with = elf::count_relocations(elf::ElfFile::open(test::fixture("user-service")));
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  eh.e_shoff = 0, eh.e_shnum = 0, eh.e_shstrndx = 0;
  std::memcpy(bytes.data(), &eh, sizeof eh);
  test::write_bytes(dir.path() + "/sstripped", bytes);
  auto without = elf::count_relocations(elf::ElfFile::open(dir.path() + "/sstripped"));
  EXPECT_EQ(without.by_type, with.by_type);
  EXPECT_EQ(without.total(), with.total());
  EXPECT_EQ(without.bytes, with.bytes);
}

}  // namespace
}  // namespace coldstart
