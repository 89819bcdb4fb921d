// Launch cgroups: creation under coldstart/, id, kill and removal.
#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "core/cgroup.h"
#include "core/process.h"
#include "launch_test_util.h"

namespace coldstart {
namespace {

TEST(Cgroup, LayoutFindsTheHierarchies) {
  const CgroupLayout& l = cgroup_layout();
  EXPECT_FALSE(l.v2.empty());
}

TEST(Cgroup, SpawnIntoItKillAllAndRemove) {
  auto dir = CgroupDir::create(cgroup_layout().v2, next_launch_cgroup_name());
  ASSERT_TRUE(dir) << dir.error();
  std::string path = dir->path();
  EXPECT_NE(path.find("/coldstart/"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(dir->id(), st.st_ino);
  EXPECT_FALSE(dir->populated());

  SpawnOptions o;
  o.argv = {test::launch_fixture(), "stubborn"};
  o.cgroup_fd = dir->fd();
  ChildProcess c = spawn(o);
  for (int i = 0; i < 200 && dir->procs().size() < 2; ++i) ::usleep(1000);
  auto procs = dir->procs();
  ASSERT_EQ(procs.size(), 2u);
  EXPECT_TRUE(dir->populated());
  dir->kill_all();
  EXPECT_EQ(c.wait().signal, SIGKILL);
  ASSERT_TRUE(dir->remove());
  EXPECT_FALSE(test::path_exists(path));
  for (pid_t p : procs) EXPECT_FALSE(test::process_alive(p));
}

TEST(Cgroup, StatValues) {
  EXPECT_EQ(cgroup_stat_value("usage_usec 10\nuser_usec 7\n", "user_usec"), 7u);
  EXPECT_EQ(cgroup_stat_value("populated 1\nfrozen 0\n", "populated"), 1u);
  EXPECT_FALSE(cgroup_stat_value("usage_usec 10\n", "usage"));
}

}  // namespace
}  // namespace coldstart
