// Library resolution equals ldd (glibc's ld.so in trace mode) on the fixtures,
// on a sample of /usr/bin, and on crafted RPATH/RUNPATH/$ORIGIN/$LIB layouts;
// the ld.so.cache parser equals `ldconfig -p`.
#include "elf/resolve.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "core/strings.h"

#include "elf/elf.h"
#include "elf/ld_cache.h"
#include "elf_testing.h"

namespace coldstart {
namespace {

using NameToPath = std::map<std::string, std::string>;  // "libc.so.6" -> path, or "not found"

// `ldd` over files (batched); `env` is a shell prefix like "LD_LIBRARY_PATH=/x".
std::map<std::string, NameToPath> ldd(const std::vector<std::string>& files, const std::string& env = "") {
  std::map<std::string, NameToPath> out;
  for (size_t start = 0; start < files.size(); start += 50) {
    size_t end = std::min(files.size(), start + 50);
    std::string cmd = "env " + env + " LC_ALL=C ldd";
    for (size_t i = start; i < end; ++i) cmd += " '" + files[i] + "'";
    auto r = test::run_shell(cmd);
    std::istringstream in(r.out);
    std::string line, current = end - start == 1 ? files[start] : "";
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] != '\t' && line.ends_with(":")) {
        current = line.substr(0, line.size() - 1);
        out[current];
        continue;
      }
      size_t arrow = line.find(" => ");
      if (arrow == std::string::npos) continue;
      std::string name(trim(line.substr(0, arrow)));
      std::string rest = line.substr(arrow + 4);
      size_t paren = rest.rfind(" (0x");
      out[current][name] = rest.starts_with("not found") ? "not found" : rest.substr(0, paren);
    }
  }
  return out;
}

NameToPath ours(const std::string& file, const elf::LoaderEnv& env) {
  elf::DependencyTree t = elf::resolve_dependencies(file, env);
  NameToPath m;
  for (size_t i = 1; i < t.objects.size(); ++i)
    if (t.objects[i].path != t.interpreter) m[t.objects[i].name] = t.objects[i].path;
  for (const auto& u : t.unresolved)
    if (u.reason.starts_with("not found") || u.reason.starts_with("wrong")) m[u.name] = "not found";
  return m;
}

void expect_same_as_ldd(const std::vector<std::string>& files, const elf::LoaderEnv& env,
                        const std::string& shell_env = "") {
  auto expected = ldd(files, shell_env);
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    EXPECT_EQ(ours(f, env), expected[f]);
  }
}

TEST(Resolve, EqualsLddOnFixtures) {
  std::vector<std::string> dynamic;
  for (const auto& f : test::elf_fixtures())
    if (!elf::read_elf(f).is_static) dynamic.push_back(f);
  ASSERT_GE(dynamic.size(), 3u);  // user-service, go cgo, go pie
  expect_same_as_ldd(dynamic, elf::LoaderEnv::from_process());
}

TEST(Resolve, EqualsLddOnUsrBinSample) {
  std::vector<std::string> dynamic;
  for (const auto& f : test::sample(test::usr_bin_elves(), 150))
    if (!elf::read_elf(f).is_static) dynamic.push_back(f);
  ASSERT_GE(dynamic.size(), 100u);
  expect_same_as_ldd(dynamic, elf::LoaderEnv::from_process());
}

TEST(Resolve, PublicListStartsWithInterpreterAndHasEachFileOnce) {
  auto libs = elf::resolve_libraries(test::fixture("user-service"));
  ASSERT_FALSE(libs.empty());
  EXPECT_EQ(libs[0], elf::read_elf(test::fixture("user-service")).interpreter);
  std::set<std::string> unique(libs.begin(), libs.end());
  EXPECT_EQ(unique.size(), libs.size());
  EXPECT_TRUE(elf::resolve_libraries(test::fixture("go-user-service-static")).empty());
}

/// A directory tree of small shared libraries built with gcc for the search-order tests.
class SearchOrder : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* sub : {"a", "b", "lib", "lib/x86_64-linux-gnu", "bin"})
      std::filesystem::create_directories(d(sub));
    // libleaf.so in a/ and b/; libmid.so (needs libleaf.so, no search path of its own) in lib/.
    ASSERT_EQ(test::compile_c(d("a"), "libleaf.so", "int leaf(void){return 1;}", "-shared -fPIC"), 0);
    ASSERT_EQ(test::compile_c(d("b"), "libleaf.so", "int leaf(void){return 2;}", "-shared -fPIC"), 0);
    ASSERT_EQ(test::compile_c(d("lib"), "libmid.so", "int leaf(void); int mid(void){return leaf();}",
                              "-shared -fPIC -L" + d("a") + " -lleaf"), 0);
  }
  std::string d(const std::string& sub) const { return dir_.path() + "/" + sub; }
  std::string app(const std::string& name, const std::string& libs, const std::string& flags) {
    // --no-as-needed: main() calls nothing from the libraries, yet they must stay DT_NEEDED.
    EXPECT_EQ(test::compile_c(d("bin"), name, "int main(void){return 0;}", "-Wl,--no-as-needed " + libs + " " + flags), 0);
    return d("bin/" + name);
  }
  elf::LoaderEnv env(const std::vector<std::string>& llp = {}) {
    elf::LoaderEnv e = elf::LoaderEnv::from_process();
    e.ld_library_path = llp;
    return e;
  }
  test::TempDir dir_;
};

TEST_F(SearchOrder, RpathOfTheExecutableAppliesToIndirectNeeds) {
  std::string a = app("rpath", "-L" + d("lib") + " -lmid -L" + d("a"),
                      "-Wl,--no-as-needed -Wl,--disable-new-dtags,-rpath,'$ORIGIN/../lib:" + d("a") + "'");
  expect_same_as_ldd({a}, env(), "-u LD_LIBRARY_PATH");
  EXPECT_EQ(ours(a, env())["libleaf.so"], d("a/libleaf.so"));
}

TEST_F(SearchOrder, RunpathAppliesToDirectNeedsOnly) {
  std::string a = app("runpath", "-L" + d("lib") + " -lmid -L" + d("a"),
                      "-Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib:" + d("a") + "'");
  expect_same_as_ldd({a}, env(), "-u LD_LIBRARY_PATH");
  EXPECT_EQ(ours(a, env())["libleaf.so"], "not found");
}

TEST_F(SearchOrder, RpathBeatsLdLibraryPathWhichBeatsRunpath) {
  std::string rp = app("rp", "-L" + d("a") + " -lleaf", "-Wl,--disable-new-dtags,-rpath," + d("a"));
  std::string ru = app("ru", "-L" + d("a") + " -lleaf", "-Wl,--enable-new-dtags,-rpath," + d("a"));
  std::string llp = "LD_LIBRARY_PATH=" + d("b");
  expect_same_as_ldd({rp, ru}, env({d("b")}), llp);
  EXPECT_EQ(ours(rp, env({d("b")}))["libleaf.so"], d("a/libleaf.so"));
  EXPECT_EQ(ours(ru, env({d("b")}))["libleaf.so"], d("b/libleaf.so"));
}

TEST_F(SearchOrder, WrongClassCandidateIsSkipped) {
  // A 32-bit "libleaf.so" first in the path: ld.so passes over it to b/.
  std::filesystem::create_directories(d("x86"));
  test::write_bytes(d("x86/libleaf.so"), test::crafted_elf(ELFCLASS32, ELFDATA2LSB, EM_386));
  std::string a = app("skip", "-L" + d("a") + " -lleaf", "-Wl,--disable-new-dtags,-rpath," + d("x86") + ":" + d("b"));
  expect_same_as_ldd({a}, env(), "-u LD_LIBRARY_PATH");
  EXPECT_EQ(ours(a, env())["libleaf.so"], d("b/libleaf.so"));
  // Only the foreign one: unresolved, and the reason says why.
  std::string only = app("only", "-L" + d("a") + " -lleaf", "-Wl,--disable-new-dtags,-rpath," + d("x86"));
  auto t = elf::resolve_dependencies(only, env());
  ASSERT_EQ(t.unresolved.size(), 1u);
  EXPECT_NE(t.unresolved[0].reason.find("wrong ELF class"), std::string::npos);
}

TEST_F(SearchOrder, LibAndPlatformTokensExpandLikeLdSo) {
  std::filesystem::copy_file(d("b/libleaf.so"), d("lib/x86_64-linux-gnu/libleaf.so"));
  std::string a = app("lib", "-L" + d("a") + " -lleaf", "-Wl,--disable-new-dtags,-rpath,'$ORIGIN/../$LIB'");
  expect_same_as_ldd({a}, env(), "-u LD_LIBRARY_PATH");
  EXPECT_EQ(ours(a, env())["libleaf.so"], d("bin/../lib/x86_64-linux-gnu/libleaf.so"));
  // ${PLATFORM} is AT_PLATFORM ("haswell", "x86_64", ...), the same for ldd's ld.so as for us.
  std::string platform = env().platform;
  ASSERT_FALSE(platform.empty());
  std::filesystem::create_directories(d("p/" + platform));
  std::filesystem::copy_file(d("a/libleaf.so"), d("p/" + platform + "/libleaf.so"));
  std::string p = app("plat", "-L" + d("a") + " -lleaf", "-Wl,--disable-new-dtags,-rpath,'" + d("p") + "/${PLATFORM}'");
  expect_same_as_ldd({p}, env(), "-u LD_LIBRARY_PATH");
  EXPECT_EQ(ours(p, env())["libleaf.so"], d("p/" + platform + "/libleaf.so"));
  // Legacy capability subdirectories of a search directory come before it.
  std::filesystem::create_directories(d("h/tls"));
  std::filesystem::copy_file(d("a/libleaf.so"), d("h/libleaf.so"));
  std::filesystem::copy_file(d("b/libleaf.so"), d("h/tls/libleaf.so"));
  std::string h = app("hwcap", "-L" + d("a") + " -lleaf", "-Wl,--disable-new-dtags,-rpath," + d("h"));
  expect_same_as_ldd({h}, env(), "-u LD_LIBRARY_PATH");
  EXPECT_EQ(ours(h, env())["libleaf.so"], d("h/tls/libleaf.so"));
}

TEST(LdCache, EqualsLdconfigP) {
  elf::LdCache cache = elf::LdCache::load();
  ASSERT_TRUE(cache.error().empty()) << cache.error();
  auto r = test::run_shell("LC_ALL=C ldconfig -p");
  std::istringstream in(r.out);
  std::string line;
  std::set<std::string> seen;
  size_t checked = 0;
  while (std::getline(in, line)) {
    // "\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1"; hwcaps entries carry ", hwcap:".
    size_t open = line.find(" ("), arrow = line.find(") => ");
    if (open == std::string::npos || arrow == std::string::npos) continue;
    std::string name(trim(line.substr(0, open))), flags = line.substr(open + 2, arrow - open - 2);
    if (flags != "libc6,x86-64" || !seen.insert(name).second) continue;
    EXPECT_EQ(cache.lookup(name).value_or("<none>"), line.substr(arrow + 5)) << name;
    ++checked;
  }
  EXPECT_GT(checked, 50u);
  EXPECT_EQ(cache.size(), seen.size());
}

TEST(LdCache, MalformedCacheIsEmptyWithAReason) {
  std::string bytes = test::read_bytes("/etc/ld.so.cache");
  for (size_t cut : {size_t{0}, size_t{10}, size_t{47}, size_t{60}}) {
    std::string part = bytes.substr(0, cut);
    auto c = elf::LdCache::parse(std::as_bytes(std::span(part.data(), part.size())));
    EXPECT_EQ(c.size(), 0u);
    EXPECT_FALSE(c.error().empty());
  }
}

}  // namespace
}  // namespace coldstart
