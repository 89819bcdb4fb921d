// The Go function table against the symbol tables of the same binaries: the
// Go fixtures keep .symtab, so every pclntab function must be a .symtab
// function at the same address; stripped copies (and Debian's stripped Go
// servers, when installed) must still give main.main.
#include <gtest/gtest.h>

#include <filesystem>

#include "elf/elf.h"
#include "elf/elf_testing.h"
#include "elf/go_pclntab.h"
#include "elf/symbols.h"

namespace coldstart::elf {
namespace {

std::vector<std::string> go_fixtures() {
  std::vector<std::string> out;
  for (const char* n : {"go-user-service-static", "go-user-service-cgo", "go-user-service-pie",
                        "go-user-service-extstatic"})
    out.push_back(test::fixture(n));
  return out;
}

TEST(GoPclntab, EveryFunctionMatchesTheSymbolTable) {
  for (const auto& path : go_fixtures()) {
    SCOPED_TRACE(path);
    ElfFile file = ElfFile::open(path);
    auto table = read_go_functions(file);
    ASSERT_TRUE(table.has_value());
    EXPECT_EQ(table->format(), "1.18");  // Debian 12's Go 1.19 writes the 1.18 format
    EXPECT_GT(table->size(), 1000u);
    size_t checked = 0, mismatched = 0;
    for (size_t i = 0; i < table->size(); i += 7) {  // a sample: lookup_symbol walks .symtab
      const GoFunction& f = table->functions()[i];
      auto sym = lookup_symbol(file, f.name);
      if (!sym) continue;  // a few linker-made entries have no symbol
      ++checked;
      // Its symbol is one of the entries of that name (ABI wrappers repeat it).
      bool found = false;
      for (const GoFunction* g : table->find_all(f.name)) found = found || g->entry == sym->value;
      if (!found) ++mismatched;
    }
    EXPECT_GT(checked, table->size() / 7 / 2);
    EXPECT_EQ(mismatched, 0u);
    for (const char* name : {"main.main", "runtime.main", "runtime.gcStart"}) {
      const GoFunction* f = table->find(name);
      ASSERT_NE(f, nullptr) << name;
      EXPECT_EQ(lookup_symbol(file, name)->value, f->entry) << name;
      EXPECT_EQ(table->containing(f->entry + f->size / 2), f);
    }
    // The assembly entry: .symtab knows it only as runtime.rt0_go.abi0.
    ASSERT_NE(table->find("runtime.rt0_go"), nullptr);
    EXPECT_EQ(lookup_symbol(file, "runtime.rt0_go.abi0")->value, table->find("runtime.rt0_go")->entry);
    EXPECT_EQ(table->find("main.no_such_function"), nullptr);
  }
}

TEST(GoPclntab, PieWithoutSectionIsFoundThroughModuledata) {
  ElfFile file = ElfFile::open(test::fixture("go-user-service-pie"));
  ASSERT_EQ(file.section(".gopclntab"), nullptr) << "the external PIE link was expected to drop the section";
  auto table = read_go_functions(file);
  ASSERT_TRUE(table.has_value());
  EXPECT_EQ(table->source, PclntabSource::kModuledata);
  // textStart is 0 in the file (a relocation sets it): entries must still be right.
  EXPECT_EQ(table->find("main.main")->entry, lookup_symbol(file, "main.main")->value);
}

// prewarm record fills the table's gaps: its span must be the linker's
// runtime.pclntab .. runtime.epclntab, with or without a section (the PIE's
// extent ends at its last function record, within a page of epclntab).
TEST(GoPclntab, TableSpanIsTheLinkersPclntabToEpclntab) {
  for (const auto& path : go_fixtures()) {
    SCOPED_TRACE(path);
    ElfFile file = ElfFile::open(path);
    auto begin = lookup_symbol(file, "runtime.pclntab"), end = lookup_symbol(file, "runtime.epclntab");
    ASSERT_TRUE(begin && end);
    auto span = go_function_table_span(path);
    ASSERT_TRUE(span.has_value());
    EXPECT_EQ(span->offset, file.vaddr_to_offset(begin->value));
    uint64_t size = end->value - begin->value;
    if (file.section(".gopclntab") != nullptr) {
      EXPECT_EQ(span->size, size);
    } else {
      EXPECT_LE(span->size, size);
      EXPECT_GT(span->size + 4096, size);
    }
  }
  // Not Go, not ELF, not there: no span, no exception.
  EXPECT_FALSE(go_function_table_span(test::fixture("user-service")).has_value());
  EXPECT_FALSE(go_function_table_span("/etc/hostname").has_value());
  EXPECT_FALSE(go_function_table_span("/no/such/file").has_value());
}

TEST(GoPclntab, StrippedCopiesKeepTheTable) {
  test::TempDir dir;
  for (const auto& path : go_fixtures()) {
    SCOPED_TRACE(path);
    std::string stripped = dir.path() + "/" + std::filesystem::path(path).filename().string();
    ASSERT_EQ(test::run_shell("strip -s -o '" + stripped + "' '" + path + "'").exit_code, 0);
    ElfFile full = ElfFile::open(path), bare = ElfFile::open(stripped);
    ASSERT_EQ(bare.section(".symtab"), nullptr);
    auto a = read_go_functions(full), b = read_go_functions(bare);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), b->size());
    EXPECT_EQ(a->find("main.main")->entry, b->find("main.main")->entry);
  }
}

TEST(GoPclntab, DebianGoServers) {
  size_t seen = 0;
  for (const char* path : {"/usr/bin/caddy", "/usr/bin/etcd", "/usr/bin/prometheus-node-exporter"}) {
    if (!std::filesystem::exists(path)) continue;
    SCOPED_TRACE(path);
    ++seen;
    ElfFile file = ElfFile::open(path);
    auto table = read_go_functions(file);
    ASSERT_TRUE(table.has_value());
    EXPECT_GT(table->size(), 10000u);
    const GoFunction* m = table->find("main.main");
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(file.vaddr_to_offset(m->entry).has_value());
  }
  if (seen == 0) GTEST_SKIP() << "no Debian Go server installed (scripts/setup installs caddy and etcd-server)";
}

// The seeds of fuzz/corpus/elf_pclntab: caddy's and etcd's own names and
// entries, re-encoded by fuzz/cut_pclntab in the Go 1.2, 1.16, 1.18 and 1.20
// layouts (no Go of those older releases is in Debian to build them from).
TEST(GoPclntab, EveryFormatDecodesTheSameFunctions) {
  for (const char* server : {"caddy", "etcd"}) {
    SCOPED_TRACE(server);
    std::vector<GoFunction> first;
    for (const char* format : {"1.2", "1.16", "1.18", "1.20"}) {
      std::string bytes = test::read_bytes(test::source_path(std::string("fuzz/corpus/elf_pclntab/") + server + "-" +
                                                             format + ".pclntab"));
      ASSERT_FALSE(bytes.empty());
      auto table = GoFunctionTable::parse(std::as_bytes(std::span(bytes)));
      ASSERT_TRUE(table.has_value()) << format;
      EXPECT_EQ(table->format(), format);
      ASSERT_NE(table->find("main.main"), nullptr) << format;
      if (first.empty()) {
        first = table->functions();
        continue;
      }
      ASSERT_EQ(table->size(), first.size()) << format;
      for (size_t i = 0; i < first.size(); ++i) {
        EXPECT_EQ(table->functions()[i].name, first[i].name);
        EXPECT_EQ(table->functions()[i].entry, first[i].entry);
        EXPECT_EQ(table->functions()[i].size, first[i].size);
      }
    }
  }
}

TEST(GoPclntab, NonGoAndDamagedTablesAreRejected) {
  EXPECT_FALSE(read_go_functions(ElfFile::open(test::fixture("user-service"))).has_value());
  std::string bytes = test::read_bytes(test::fixture("go-user-service-static"));
  ElfFile file = ElfFile::parse(std::as_bytes(std::span(bytes)), "static");
  const Section* s = file.section(".gopclntab");
  ASSERT_NE(s, nullptr);
  auto span = *file.section_bytes(*s);
  ASSERT_TRUE(GoFunctionTable::parse(span).has_value());
  // Cut short, a bad magic, an nfunc beyond the table: nullopt, never a crash.
  EXPECT_FALSE(GoFunctionTable::parse(span.first(64)).has_value());
  std::string copy(reinterpret_cast<const char*>(span.data()), span.size());
  copy[0] = 0x12;
  EXPECT_FALSE(GoFunctionTable::parse(std::as_bytes(std::span(copy))).has_value());
  copy[0] = static_cast<char>(0xf0);
  copy[12] = 0x7f;  // nfunc's high bytes
  EXPECT_FALSE(GoFunctionTable::parse(std::as_bytes(std::span(copy))).has_value());
}

}  // namespace
}  // namespace coldstart::elf
