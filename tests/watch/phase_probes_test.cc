// PhaseProbeSet and phase_offsets on real binaries, with the uprobe
// attachment faked (attach/detach counted): where the probes go, that an
// executable is probed once however it is named, and the LRU bound.
#include "watch/phase_probes.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "test_util.h"

namespace coldstart::watch {
namespace {

// The kernel's encoding of a file's device (what the BPF records carry), and its inode.
std::pair<uint32_t, uint64_t> identity(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return {static_cast<uint32_t>((major(st.st_dev) << 20) | minor(st.st_dev)), st.st_ino};
}

struct FakeUprobes {
  std::vector<std::pair<uint64_t, bool>> attached;  // (offset, is_main)
  int detached = 0;
  PhaseProbeSet set(size_t capacity) {
    return PhaseProbeSet(
        capacity,
        [this](const std::string&, uint64_t offset, bool is_main) -> void* {
          attached.emplace_back(offset, is_main);
          return reinterpret_cast<void*>(attached.size());
        },
        [this](void*) { ++detached; });
  }
};

TEST(WatchPhaseProbes, OffsetsOfAStaticCBinaryAndAGoBinary) {
  auto c = phase_offsets(test::fixture("noop-static"));
  ASSERT_TRUE(c);
  EXPECT_GT(c->entry, 0u);
  ASSERT_TRUE(c->main);
  EXPECT_EQ(c->main_symbol, "main");
  EXPECT_NE(*c->main, c->entry);
  auto go = phase_offsets(test::fixture("go-user-service-static"));
  ASSERT_TRUE(go);
  EXPECT_EQ(go->main_symbol, "main.main");
  EXPECT_FALSE(phase_offsets("/etc/hostname"));  // not ELF
}

// Debian's own binaries, as a node runs them: a stripped Go server and the
// stripped C shell (main found through _start's call of __libc_start_main).
TEST(WatchPhaseProbes, MainOfDebiansStrippedPrometheusAndShell) {
  for (const char* exe : {"/usr/bin/prometheus", "/bin/sh"})
    ASSERT_EQ(::access(exe, R_OK), 0) << exe << " missing: run scripts/setup";
  auto prom = phase_offsets("/usr/bin/prometheus");
  ASSERT_TRUE(prom);
  EXPECT_EQ(prom->main_symbol, "main.main");
  EXPECT_TRUE(prom->main);
  auto sh = phase_offsets("/bin/sh");
  ASSERT_TRUE(sh);
  EXPECT_TRUE(sh->main) << sh->main_symbol;
  EXPECT_EQ(sh->main_symbol, "__libc_start_main argument");
}

TEST(WatchPhaseProbes, OnePairPerExecutableAndLeastRecentlyStartedEvicted) {
  FakeUprobes fake;
  {
    PhaseProbeSet set = fake.set(1);
    std::string main_symbol;
    auto [dev, ino] = identity("/proc/self/exe");
    // By /proc/PID/exe (ourselves, alive).
    EXPECT_EQ(set.ensure(::getpid(), dev, ino, "", main_symbol), PhaseProbes::kLate);
    EXPECT_EQ(fake.attached.size(), 2u);  // entry and main
    EXPECT_EQ(main_symbol, "main");
    EXPECT_EQ(set.ensure(::getpid(), dev, ino, "", main_symbol), PhaseProbes::kInPlace);
    EXPECT_EQ(fake.attached.size(), 2u);
    // Another executable, by its exec path (its process gone): evicts the first.
    std::string other = test::fixture("noop-static");
    auto [dev2, ino2] = identity(other);
    EXPECT_EQ(set.ensure(999999999, dev2, ino2, other, main_symbol), PhaseProbes::kLate);
    EXPECT_EQ(set.attached(), 1u);
    EXPECT_EQ(set.evicted(), 1u);
    EXPECT_EQ(fake.detached, 2);
    // A path that is not that inode: nothing placed.
    EXPECT_EQ(set.ensure(999999999, dev, ino + 1, other, main_symbol), PhaseProbes::kNone);
  }
  EXPECT_EQ(fake.detached, 4);  // the rest detached with the set
}

}  // namespace
}  // namespace coldstart::watch
