// spawn(): real children, exec failures, paused start, passed fds, LISTEN_PID.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/file.h"
#include "core/process.h"
#include "launch_test_util.h"

namespace coldstart {
namespace {

std::string read_all(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  return s;
}

TEST(Spawn, ExitCodeAndSignalAreReported) {
  SpawnOptions o;
  o.argv = {test::launch_fixture(), "exit", "3"};
  o.env = environment_with({});
  ChildProcess c = spawn(o);
  ExitStatus st = c.wait();
  EXPECT_EQ(st.code, 3);
  EXPECT_EQ(st.describe(), "exit code 3");

  o.argv = {test::launch_fixture(), "crash"};
  o.stderr_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  ChildProcess crash = spawn(o);
  st = crash.wait();
  ::close(o.stderr_fd);
  EXPECT_EQ(st.signal, SIGABRT);
  EXPECT_NE(st.describe().find("SIGABRT"), std::string::npos);
}

TEST(Spawn, MissingProgramIsAUserError) {
  SpawnOptions o;
  o.argv = {"/nonexistent/prog"};
  EXPECT_THROW(spawn(o), UserError);
  o.argv = {"no-such-command-coldstart"};
  try {
    spawn(o);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "command not found: no-such-command-coldstart");
  }
}

TEST(Spawn, NotExecutableIsAUserError) {
  test::TempDir dir;
  std::string f = dir.path() + "/script";
  write_file_atomic(f, "#!/bin/sh\n");
  SpawnOptions o;
  o.argv = {f};
  EXPECT_THROW(spawn(o), UserError);
}

TEST(Spawn, ChdirFailureIsReportedFromTheChild) {
  SpawnOptions o;
  o.argv = {test::launch_fixture(), "exit", "0"};
  o.cwd = "/nonexistent-dir";
  try {
    spawn(o);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("chdir"), std::string::npos) << e.what();
  }
}

TEST(Spawn, PausedChildDoesNotExecUntilResumed) {
  Pipe out = make_pipe();
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", "echo ran"};
  o.env = environment_with({});
  o.stdout_fd = out.write_end.get();
  o.paused = true;
  ChildProcess c = spawn(o);
  EXPECT_TRUE(c.paused());
  EXPECT_TRUE(test::process_alive(c.pid()));
  // Not exec'd: /proc/<pid>/exe is still our own binary.
  char self[4096] = {}, child[4096] = {};
  ASSERT_GT(::readlink("/proc/self/exe", self, sizeof self - 1), 0);
  ASSERT_GT(::readlink(("/proc/" + std::to_string(c.pid()) + "/exe").c_str(), child, sizeof child - 1), 0);
  EXPECT_STREQ(self, child);
  c.resume();
  out.write_end.reset();
  EXPECT_EQ(read_all(out.read_end.get()), "ran\n");
  EXPECT_EQ(c.wait().code, 0);
}

TEST(Spawn, DestroyingAPausedChildKillsAndReapsIt) {
  pid_t pid;
  {
    SpawnOptions o;
    o.argv = {"/bin/true"};
    o.paused = true;
    ChildProcess c = spawn(o);
    pid = c.pid();
  }
  EXPECT_FALSE(test::process_alive(pid));
}

TEST(Spawn, PassedFdsAndOwnPidVariables) {
  Pipe out = make_pipe();
  Pipe extra = make_pipe();
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", "[ \"$WATCHDOG_PID\" = $$ ] || exit 5; echo \"$LISTEN_PID $$\"; echo hello >&3"};
  o.env = environment_with({"LISTEN_PID=", "WATCHDOG_PID="});
  for (size_t i = 0; i < o.env.size(); ++i) {
    if (o.env[i] == "LISTEN_PID=" || o.env[i] == "WATCHDOG_PID=") o.own_pid_env_indexes.push_back(static_cast<int>(i));
  }
  o.stdout_fd = out.write_end.get();
  o.pass_fds = {extra.write_end.get()};
  ChildProcess c = spawn(o);
  out.write_end.reset();
  extra.write_end.reset();
  std::string line = read_all(out.read_end.get());
  EXPECT_EQ(c.wait().code, 0);
  auto space = line.find(' ');
  ASSERT_NE(space, std::string::npos) << line;
  EXPECT_EQ(line.substr(0, space), line.substr(space + 1, line.size() - space - 2)) << line;
  EXPECT_EQ(line.substr(0, space), std::to_string(c.pid()));
  EXPECT_EQ(read_all(extra.read_end.get()), "hello\n");
}

int failing_hook(void*) { return EPERM; }

TEST(Spawn, ChildHookRunsAndCanAbortTheSpawn) {
  SpawnOptions o;
  o.argv = {"/bin/true"};
  o.hook = failing_hook;
  try {
    spawn(o);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("child hook"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace coldstart
