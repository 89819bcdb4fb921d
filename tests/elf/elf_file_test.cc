// ElfFile on good and bad input: header facts equal readelf's; every kind of
// bad file is one UserError naming the file, never a crash.
#include "elf/elf_file.h"

#include <gtest/gtest.h>

#include <regex>

#include "core/error.h"
#include "elf/elf.h"
#include "elf_testing.h"

namespace coldstart {
namespace {

std::string readelf_field(const std::string& args, const std::string& file, const std::string& pattern) {
  auto r = test::run_shell("LC_ALL=C readelf " + args + " '" + file + "'");
  std::smatch m;
  std::regex re(pattern);
  if (std::regex_search(r.out, m, re)) return m[1];
  return "";
}

TEST(ElfFile, HeaderFactsEqualReadelfOnFixtures) {
  for (const auto& f : test::elf_fixtures()) {
    SCOPED_TRACE(f);
    elf::ElfInfo info = elf::read_elf(f);
    EXPECT_EQ(info.machine, "x86-64");
    std::string entry = readelf_field("-hW", f, "Entry point address:\\s+0x([0-9a-f]+)");
    EXPECT_EQ(info.entry, std::stoull(entry, nullptr, 16));
    std::string interp = readelf_field("-lW", f, "Requesting program interpreter: ([^\\]]+)\\]");
    EXPECT_EQ(info.interpreter, interp);
    EXPECT_EQ(info.is_static, interp.empty());
    EXPECT_EQ(info.build_id, readelf_field("-nW", f, "Build ID: ([0-9a-f]+)"));
    std::string type = readelf_field("-hW", f, "Type:\\s+(\\w+)");
    if (type == "EXEC") {
      EXPECT_EQ(info.kind, elf::ImageKind::kExecutable);
    } else {
      EXPECT_EQ(type, "DYN");
      EXPECT_TRUE(info.kind == elf::ImageKind::kPie || info.kind == elf::ImageKind::kStaticPie);
    }
    bool has_symtab = test::run_shell("readelf -SW '" + f + "' | grep -q ' .symtab '").exit_code == 0;
    EXPECT_EQ(info.stripped, !has_symtab);
  }
  EXPECT_EQ(elf::read_elf(test::fixture("go-user-service-pie")).kind, elf::ImageKind::kPie);
  EXPECT_EQ(elf::read_elf(test::fixture("go-user-service-static")).kind, elf::ImageKind::kExecutable);
  EXPECT_TRUE(elf::read_elf(test::fixture("go-user-service-static")).is_go);
  EXPECT_FALSE(elf::read_elf(test::fixture("user-service")).is_go);
}

TEST(ElfFile, SharedObjectAndStaticPieAreTold) {
  test::TempDir dir;
  ASSERT_EQ(test::compile_c(dir.path(), "lib.so", "int f(void){return 1;}", "-shared -fPIC"), 0);
  EXPECT_EQ(elf::read_elf(dir.path() + "/lib.so").kind, elf::ImageKind::kSharedObject);
  ASSERT_EQ(test::compile_c(dir.path(), "spie", "int main(void){return 0;}", "-static-pie"), 0);
  elf::ElfInfo spie = elf::read_elf(dir.path() + "/spie");
  EXPECT_EQ(spie.kind, elf::ImageKind::kStaticPie);
  EXPECT_TRUE(spie.is_static);
}

// Every bad input: exactly one UserError whose text names the file.
void expect_user_error(const std::string& path, const std::string& fragment) {
  try {
    elf::read_elf(path);
    ADD_FAILURE() << path << ": no error";
  } catch (const UserError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(ElfFile, BadInputIsOneUserErrorNamingTheFile) {
  test::TempDir dir;
  const std::string d = dir.path();
  expect_user_error(d + "/missing", "No such file");
  expect_user_error(d, "is a directory");
  test::write_bytes(d + "/text", "#!/bin/sh\necho hi\n");
  expect_user_error(d + "/text", "not an ELF file");
  test::write_bytes(d + "/empty", "");
  expect_user_error(d + "/empty", "not an ELF file");
  test::write_bytes(d + "/magic-only", "\177ELF");
  expect_user_error(d + "/magic-only", "corrupt or truncated");
  test::write_bytes(d + "/elf32", test::crafted_elf(ELFCLASS32, ELFDATA2LSB, EM_386));
  expect_user_error(d + "/elf32", "unsupported ELF: 32-bit little-endian Intel 80386");
  test::write_bytes(d + "/arm64", test::crafted_elf(ELFCLASS64, ELFDATA2LSB, EM_AARCH64));
  expect_user_error(d + "/arm64", "unsupported ELF: 64-bit little-endian AArch64");
  test::write_bytes(d + "/s390", test::crafted_elf(ELFCLASS64, ELFDATA2MSB, EM_S390));
  expect_user_error(d + "/s390", "64-bit big-endian IBM S/390");

  // A real binary cut short: its section headers (at the end) are gone.
  std::string whole = test::read_bytes(test::fixture("user-service"));
  for (size_t cut : {size_t{40}, size_t{64 + 20}, whole.size() / 2, whole.size() - 1}) {
    test::write_bytes(d + "/cut", whole.substr(0, cut));
    expect_user_error(d + "/cut", "corrupt or truncated");
  }
}

TEST(ElfFile, CorruptHeaderFieldsAreErrorsNotCrashes) {
  test::TempDir dir;
  std::string whole = test::read_bytes(test::fixture("noop-static"));
  auto patch = [&](size_t at, uint64_t value, size_t width) {
    std::string b = whole;
    std::memcpy(b.data() + at, &value, width);
    return b;
  };
  const std::string p = dir.path() + "/bad";
  // e_shoff far outside the file, e_shentsize wrong, e_phoff outside, e_shnum huge.
  for (auto bytes : {patch(offsetof(Elf64_Ehdr, e_shoff), ~uint64_t{0} - 8, 8),
                     patch(offsetof(Elf64_Ehdr, e_shentsize), 7, 2),
                     patch(offsetof(Elf64_Ehdr, e_phoff), uint64_t{1} << 40, 8),
                     patch(offsetof(Elf64_Ehdr, e_shnum), 0xffff, 2)}) {
    test::write_bytes(p, bytes);
    expect_user_error(p, "corrupt or truncated");
  }
}

}  // namespace
}  // namespace coldstart
