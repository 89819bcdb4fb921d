// The small public API other layers use: symbol addresses and file offsets
// (for uprobes) equal nm/readelf's, and string hints find what is there.
#include "elf/elf.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "core/error.h"
#include "elf_testing.h"

namespace coldstart {
namespace {

uint64_t nm_address(const std::string& file, const std::string& symbol) {
  auto r = test::run_shell("nm '" + file + "' | awk '$3 == \"" + symbol + "\" && ($2 == \"T\" || $2 == \"t\") {print $1}'");
  return r.out.empty() ? 0 : std::stoull(r.out, nullptr, 16);
}

// File offset of `vaddr` through the section that holds it, from `readelf -SW`.
uint64_t readelf_offset(const std::string& file, uint64_t vaddr) {
  auto r = test::run_shell("LC_ALL=C readelf -SW '" + file + "'");
  std::istringstream in(r.out);
  std::string line;
  std::regex re(R"(\]\s+\S+\s+\S+\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+))");
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, re)) continue;
    uint64_t addr = std::stoull(m[1], nullptr, 16), off = std::stoull(m[2], nullptr, 16),
             size = std::stoull(m[3], nullptr, 16);
    if (addr != 0 && vaddr >= addr && vaddr < addr + size) return off + (vaddr - addr);
  }
  return 0;
}

TEST(FindSymbol, MainAndMainMainMatchNmAndReadelf) {
  struct Case {
    const char* fixture;
    const char* symbol;
  };
  for (Case c : {Case{"user-service", "main"}, Case{"go-user-service-static", "main.main"},
                 Case{"go-user-service-pie", "main.main"}, Case{"go-user-service-cgo", "main.main"},
                 Case{"noop-static", "main"}}) {
    std::string f = test::fixture(c.fixture);
    SCOPED_TRACE(f);
    auto loc = elf::find_symbol(f, c.symbol);
    ASSERT_TRUE(loc.has_value());
    EXPECT_EQ(loc->vaddr, nm_address(f, c.symbol));
    EXPECT_EQ(loc->file_offset, readelf_offset(f, loc->vaddr));
    EXPECT_GT(loc->size, 0u);
  }
  EXPECT_FALSE(elf::find_symbol(test::fixture("user-service"), "no_such_symbol_here").has_value());
}

TEST(FindSymbol, EntryFileOffsetMatchesReadelf) {
  for (const auto& f : test::elf_fixtures()) {
    SCOPED_TRACE(f);
    auto info = elf::read_elf(f);
    ASSERT_TRUE(info.entry_file_offset.has_value());
    EXPECT_EQ(*info.entry_file_offset, readelf_offset(f, info.entry));
  }
}

TEST(HasString, FindsServiceProtocolStrings) {
  // Both services read NOTIFY_SOCKET and LISTEN_FDS; the musl no-op reads neither.
  for (const char* n : {"user-service", "go-user-service-static", "go-user-service-pie"}) {
    EXPECT_TRUE(elf::has_string(test::fixture(n), "NOTIFY_SOCKET")) << n;
    EXPECT_TRUE(elf::has_string(test::fixture(n), "LISTEN_FDS")) << n;
  }
  EXPECT_FALSE(elf::has_string(test::fixture("noop-static"), "NOTIFY_SOCKET"));
  EXPECT_FALSE(elf::has_string(test::fixture("user-service"), "no such string in here, surely"));
  EXPECT_THROW(elf::has_string("/nonexistent/x", "NOTIFY_SOCKET"), UserError);
}

}  // namespace
}  // namespace coldstart
