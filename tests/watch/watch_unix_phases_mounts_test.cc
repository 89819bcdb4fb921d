// End-to-end tests of what `coldstart watch` measures besides TCP readiness,
// with real servers, real cgroups and real mounts:
//  - redis listening on an AF_UNIX stream socket only, started twice in a
//    fresh cgroup: LISTEN and the first connection are seen for AF_UNIX, and
//    the second start of the same executable gets time to entry (loader
//    done) and main from the uprobes placed at the first one;
//  - main of Debian's stripped prometheus (Go) and /bin/sh (C), for starts
//    that exit at once;
//  - --probe-exe: the first start of a binary has its phase probes in place;
//  - the Go user-service listening on an AF_UNIX socket (Go makes the
//    listen(2) syscall itself): missed by the libc uprobe, seen by the
//    syscalls:sys_exit_listen tracepoint (--syscall-probes);
//  - the same by raw syscalls (fsopen/fsconfig/fsmount/move_mount and
//    mount(2)), seen with --syscall-probes;
//  - a start whose first process unshares its mount namespace and makes two
//    overlay mounts (mount(2), with three and two lower layers) before its exec: both are in its record, with
//    their layer counts.
// Every process is killed and reaped by pid, every cgroup removed, also when
// an assertion fails; the mount namespace (and its mounts) goes with the
// start's last process.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "core/cgroup.h"
#include "test_util.h"
#include "watch_e2e_util.h"

namespace coldstart::test {
namespace {

using namespace watch_e2e;

bool unix_connects(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

/// The agent with its event log in `events`, its stderr in `log` and `flags`
/// (by default the libc probes: AF_UNIX LISTEN, mount(2)); ready once
/// agent_attached(log).
Child start_agent(const std::string& events, const std::string& log,
                  const std::vector<std::string>& flags = {"--libc-probes"}) {
  std::vector<std::string> argv{coldstart_binary(), "watch", "--listen", "none"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"--events", events, "--duration", "120s"});
  return Child(argv, {}, log);
}

std::vector<nlohmann::json> records_of(const std::string& events, const std::string& cgroup) {
  std::vector<nlohmann::json> out;
  for (const auto& r : read_records(events))
    if (r["cgroup"] == cgroup) out.push_back(r);
  return out;
}

TEST(WatchE2E, UnixStreamListenAcceptAndPhasesOfARestartedServer) {
  if (!is_root_with_bpf()) GTEST_SKIP() << "needs root: loads BPF programs and makes cgroups";
  ASSERT_EQ(::access("/usr/bin/redis-server", X_OK), 0) << "redis-server missing: run scripts/setup";
  TempDir dir;
  std::string events = dir.path() + "/events.jsonl", log = dir.path() + "/agent.log";
  Child agent = start_agent(events, log);
  ASSERT_TRUE(agent_attached(log)) << read_text(log);
  auto parent = CgroupDir::create(cgroup_layout().v2, next_launch_cgroup_name());
  ASSERT_TRUE(parent) << parent.error();
  std::string cgroup = parent->path().substr(cgroup_layout().v2.size()) + "/redis-unix.service";
  std::string sock = dir.path() + "/redis.sock";
  for (size_t i = 0; i < 2; ++i) {
    // No TCP at all (--port 0): only the unix socket.
    ManagedStart redis(
        parent->path(), "redis-unix.service",
        {"/usr/bin/redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no"},
        {});
    ASSERT_TRUE(redis.made());
    ASSERT_TRUE(wait_for([&] { return unix_connects(sock); }, 10)) << "redis never listened on " << sock;
    // Served at the first connection, recorded after the 1 s linger for a READY=1.
    ASSERT_TRUE(wait_for([&] { return records_of(events, cgroup).size() == i + 1; }, 10))
        << read_text(events);
    redis.stop();
    ::unlink(sock.c_str());
  }
  int status = agent.stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(log);
  EXPECT_TRUE(parent->remove());

  std::vector<nlohmann::json> records = records_of(events, cgroup);
  ASSERT_EQ(records.size(), 2u) << read_text(events);
  for (const auto& r : records) {
    EXPECT_EQ(r["outcome"], "served") << r.dump();
    ASSERT_FALSE(r["time_to_listen"].is_null()) << r.dump();
    EXPECT_EQ(r["listen"]["family"], "unix") << r.dump();
    EXPECT_EQ(r["listen"]["path"], sock) << r.dump();
    EXPECT_FALSE(r["listen"].contains("port")) << r.dump();
    ASSERT_FALSE(r["time_to_first_accept"].is_null()) << r.dump();
    EXPECT_EQ(r["first_accept"]["family"], "unix") << r.dump();
    EXPECT_GE(r["time_to_first_accept"].get<double>(), r["time_to_listen"].get<double>()) << r.dump();
  }
  // The first start of the binary placed the probes (and most likely ran
  // past them first); the second found them in place.
  EXPECT_EQ(records[0]["phase_probes"], "late") << records[0].dump();
  const nlohmann::json& second = records[1];
  EXPECT_EQ(second["phase_probes"], "in_place") << second.dump();
  EXPECT_FALSE(second["main_symbol"].get<std::string>().empty()) << second.dump();
  ASSERT_FALSE(second["time_to_entry"].is_null()) << second.dump();
  ASSERT_FALSE(second["time_to_main"].is_null()) << second.dump();
  double entry = second["time_to_entry"], main = second["time_to_main"], listen = second["time_to_listen"];
  EXPECT_GT(entry, 0.0);
  EXPECT_LE(entry, main) << second.dump();
  EXPECT_LE(main, listen) << second.dump();
  EXPECT_EQ(second["main"]["comm"], "redis-server") << second.dump();
  std::printf(
      "redis on a unix socket, second start: entry %.3f ms, main %.3f ms (%s), listen %.3f ms, "
      "first accept %.3f ms\n",
      entry * 1e3, main * 1e3, second["main_symbol"].get<std::string>().c_str(), listen * 1e3,
      second["time_to_first_accept"].get<double>() * 1e3);
}

TEST(WatchE2E, ProbeExePlacesThePhaseProbesBeforeTheFirstStart) {
  if (!is_root_with_bpf()) GTEST_SKIP() << "needs root: loads BPF programs and makes cgroups";
  ASSERT_EQ(::access("/usr/bin/redis-server", X_OK), 0) << "redis-server missing: run scripts/setup";
  TempDir dir;
  std::string events = dir.path() + "/events.jsonl", log = dir.path() + "/agent.log";
  Child agent = start_agent(events, log, {"--libc-probes", "--probe-exe", "/usr/bin/redis-server"});
  ASSERT_TRUE(agent_attached(log)) << read_text(log);
  auto parent = CgroupDir::create(cgroup_layout().v2, next_launch_cgroup_name());
  ASSERT_TRUE(parent) << parent.error();
  std::string cgroup = parent->path().substr(cgroup_layout().v2.size()) + "/redis-first.service";
  std::string sock = dir.path() + "/redis.sock";
  {
    ManagedStart redis(
        parent->path(), "redis-first.service",
        {"/usr/bin/redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no"}, {});
    ASSERT_TRUE(redis.made());
    ASSERT_TRUE(wait_for([&] { return unix_connects(sock); }, 10)) << "redis never listened on " << sock;
    ASSERT_TRUE(wait_for([&] { return !records_of(events, cgroup).empty(); }, 10)) << read_text(events);
    redis.stop();
  }
  ::unlink(sock.c_str());
  int status = agent.stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(log);
  EXPECT_TRUE(parent->remove());
  nlohmann::json r = records_of(events, cgroup).at(0);
  // The first start this agent sees of redis-server, with its probes already in place.
  EXPECT_EQ(r["phase_probes"], "in_place") << r.dump();
  ASSERT_FALSE(r["time_to_entry"].is_null()) << r.dump();
  ASSERT_FALSE(r["time_to_main"].is_null()) << r.dump();
  EXPECT_LE(r["time_to_entry"].get<double>(), r["time_to_main"].get<double>()) << r.dump();
}

// Debian's stripped Go prometheus (main.main from its pclntab) and stripped C
// shell (main as __libc_start_main's argument), each started twice in a
// fresh cgroup and exiting at once: the first start places the probes while
// its process may already be gone (the agent reads the file through its own
// fd), the second has loader-done and main.
TEST(WatchE2E, MainOfShortLivedStartsOfStrippedGoAndCBinaries) {
  if (!is_root_with_bpf()) GTEST_SKIP() << "needs root: loads BPF programs and makes cgroups";
  for (const char* exe : {"/usr/bin/prometheus", "/bin/sh"})
    ASSERT_EQ(::access(exe, X_OK), 0) << exe << " missing: run scripts/setup";
  TempDir dir;
  std::string events = dir.path() + "/events.jsonl", log = dir.path() + "/agent.log";
  Child agent = start_agent(events, log, {});
  ASSERT_TRUE(agent_attached(log)) << read_text(log);
  auto parent = CgroupDir::create(cgroup_layout().v2, next_launch_cgroup_name());
  ASSERT_TRUE(parent) << parent.error();
  struct Case {
    std::string unit;
    std::vector<std::string> argv;
    std::string symbol;
  };
  std::vector<Case> cases = {{"prometheus-version.service", {"/usr/bin/prometheus", "--version"}, "main.main"},
                             {"sh.service", {"/bin/sh", "-c", "exit 0"}, "__libc_start_main argument"}};
  std::string prefix = parent->path().substr(cgroup_layout().v2.size()) + "/";
  for (const Case& c : cases) {
    for (size_t i = 0; i < 2; ++i) {
      ManagedStart s(parent->path(), c.unit, c.argv, {});
      ASSERT_TRUE(s.made());
      s.wait_exit(10);
      s.stop();
      ASSERT_TRUE(wait_for([&] { return records_of(events, prefix + c.unit).size() == i + 1; }, 10))
          << read_text(events);
    }
  }
  int status = agent.stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(log);
  EXPECT_TRUE(parent->remove());
  for (const Case& c : cases) {
    std::vector<nlohmann::json> r = records_of(events, prefix + c.unit);
    ASSERT_EQ(r.size(), 2u) << read_text(events);
    EXPECT_EQ(r[0]["main_symbol"], c.symbol) << r[0].dump();
    EXPECT_EQ(r[1]["phase_probes"], "in_place") << r[1].dump();
    EXPECT_EQ(r[1]["main_symbol"], c.symbol) << r[1].dump();
    ASSERT_FALSE(r[1]["time_to_main"].is_null()) << r[1].dump();
    ASSERT_FALSE(r[1]["time_to_entry"].is_null()) << r[1].dump();
    EXPECT_LE(r[1]["time_to_entry"].get<double>(), r[1]["time_to_main"].get<double>()) << r[1].dump();
    std::printf("%s second start: entry %.3f ms, main %.3f ms (%s)\n", c.argv[0].c_str(),
                r[1]["time_to_entry"].get<double>() * 1e3, r[1]["time_to_main"].get<double>() * 1e3,
                c.symbol.c_str());
  }
}

TEST(WatchCli, ProbeExeRefusesAFileWithoutAnEntryPoint) {
  CommandResult r = run_shell(coldstart_binary() + " watch --listen none --duration 1s --probe-exe /etc/hostname");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("coldstart: error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(WatchE2E, GoServerListeningOnAUnixSocketIsSeenByTheSyscallTracepoint) {
  if (!is_root_with_bpf()) GTEST_SKIP() << "needs root: loads BPF programs and makes cgroups";
  TempDir dir;
  // Two agents watch the same start: one with only the libc uprobes, one with
  // the syscall tracepoint. Go's net package makes the listen(2) syscall
  // itself (even the cgo build, which maps the host's libc), so only the
  // second sees the LISTEN; both see the first connection (a tracepoint).
  std::string libc_events = dir.path() + "/libc.jsonl", libc_log = dir.path() + "/libc.log";
  std::string sys_events = dir.path() + "/sys.jsonl", sys_log = dir.path() + "/sys.log";
  Child libc_agent = start_agent(libc_events, libc_log, {"--libc-probes"});
  Child sys_agent = start_agent(sys_events, sys_log, {"--syscall-probes"});
  for (const std::string& log : {libc_log, sys_log})
    ASSERT_TRUE(agent_attached(log)) << read_text(log);
  auto parent = CgroupDir::create(cgroup_layout().v2, next_launch_cgroup_name());
  ASSERT_TRUE(parent) << parent.error();
  std::string cgroup = parent->path().substr(cgroup_layout().v2.size()) + "/go-unix.service";
  std::string sock = dir.path() + "/go.sock";
  {
    ManagedStart go(parent->path(), "go-unix.service", {fixture("go-user-service-cgo")}, {"ADDR=unix:" + sock});
    ASSERT_TRUE(go.made());
    ASSERT_TRUE(wait_for([&] { return unix_connects(sock); }, 10)) << "the Go service never listened on " << sock;
    ASSERT_TRUE(wait_for([&] { return !records_of(sys_events, cgroup).empty(); }, 10)) << read_text(sys_events);
    ASSERT_TRUE(wait_for([&] { return !records_of(libc_events, cgroup).empty(); }, 10)) << read_text(libc_events);
    go.stop();
  }
  ::unlink(sock.c_str());
  for (Child* a : {&libc_agent, &sys_agent}) {
    int status = a->stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(libc_log) << read_text(sys_log);
  }
  EXPECT_TRUE(parent->remove());
  nlohmann::json seen = records_of(sys_events, cgroup).at(0), missed = records_of(libc_events, cgroup).at(0);
  ASSERT_FALSE(seen["time_to_listen"].is_null()) << seen.dump();
  EXPECT_EQ(seen["listen"]["family"], "unix") << seen.dump();
  EXPECT_EQ(seen["listen"]["path"], sock) << seen.dump();
  EXPECT_EQ(seen["first_accept"]["family"], "unix") << seen.dump();
  EXPECT_GE(seen["time_to_first_accept"].get<double>(), seen["time_to_listen"].get<double>()) << seen.dump();
  EXPECT_TRUE(missed["time_to_listen"].is_null()) << "the libc uprobe cannot see Go's syscall: " << missed.dump();
  EXPECT_FALSE(missed["time_to_first_accept"].is_null()) << missed.dump();
  std::printf("Go on a unix socket: listen %.3f ms (syscall tracepoint; the libc uprobe: none), first accept %.3f ms\n",
              seen["time_to_listen"].get<double>() * 1e3, seen["time_to_first_accept"].get<double>() * 1e3);
}

// The forked child joins its unit cgroup (as a service manager moves it) and
// takes a mount namespace of its own with private propagation. Exit codes
// name the step.
void join_cgroup_in_private_mounts(const std::string& procs) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  std::string me = std::to_string(::getpid());
  if (fd < 0 || ::write(fd, me.data(), me.size()) < 0) _exit(20);
  ::close(fd);
  if (::unshare(CLONE_NEWNS) != 0) _exit(21);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(22);
}

// The child's part before its exec, as a container runtime does it: its own
// mount namespace, then overlay mounts of image layers by glibc's mount().
[[noreturn]] void mount_then_exec(const std::string& procs, const std::string& d) {
  join_cgroup_in_private_mounts(procs);
  std::string legacy = "lowerdir=" + d + "/l1:" + d + "/l2:" + d + "/l3";
  if (::mount("overlay", (d + "/m1").c_str(), "overlay", MS_RDONLY, legacy.c_str()) != 0) _exit(23);
  std::string two = "lowerdir=" + d + "/l1:" + d + "/l2";
  if (::mount("overlay", (d + "/m2").c_str(), "overlay", MS_RDONLY, two.c_str()) != 0) _exit(24);
  // The new mount API is the next test's (it needs --syscall-probes).
  ::execl("/bin/sh", "sh", "-c", "test -e m1/f3 && test -e m2/f2", nullptr);
  _exit(29);
}

// The same with raw system calls, as Go runtimes and coldstart's own --image
// path make them: the new mount API (fsopen, fsconfig "lowerdir+" per layer,
// FSCONFIG_CMD_CREATE, fsmount, move_mount) and a mount(2) syscall.
[[noreturn]] void syscall_mounts_then_exec(const std::string& procs, const std::string& d) {
  join_cgroup_in_private_mounts(procs);
  int fs = static_cast<int>(::syscall(SYS_fsopen, "overlay", 1 /* FSOPEN_CLOEXEC */));
  if (fs < 0) _exit(23);
  for (const char* l : {"/l1", "/l2", "/l3"}) {
    std::string layer = d + l;
    if (::syscall(SYS_fsconfig, fs, 1 /* SET_STRING */, "lowerdir+", layer.c_str(), 0) != 0) _exit(24);
  }
  if (::syscall(SYS_fsconfig, fs, 6 /* CMD_CREATE */, nullptr, nullptr, 0) != 0) _exit(25);
  int m = static_cast<int>(::syscall(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, 1 /* MOUNT_ATTR_RDONLY */));
  if (m < 0) _exit(26);
  if (::syscall(SYS_move_mount, m, "", AT_FDCWD, (d + "/m1").c_str(), 4 /* F_EMPTY_PATH */) != 0) _exit(27);
  std::string two = "lowerdir=" + d + "/l1:" + d + "/l2";
  if (::syscall(SYS_mount, "overlay", (d + "/m2").c_str(), "overlay", MS_RDONLY, two.c_str()) != 0) _exit(28);
  ::execl("/bin/sh", "sh", "-c", "test -e m1/f3 && test -e m2/f2", nullptr);
  _exit(29);
}

/// Three layer directories and two mount points in a temp dir; an agent
/// (start_agent with `agent_args`) watching; a child forked into a fresh unit
/// cgroup that runs `mount_and_exec(procs, dir)`. Returns the start's
/// record (null when the agent wrote none) and the child's pid; everything
/// is stopped and removed before it returns.
struct MountingStart {
  nlohmann::json record;
  pid_t pid = -1;
};
MountingStart watch_a_mounting_start(const std::vector<std::string>& agent_args, const std::string& unit,
                                     void (*mount_and_exec)(const std::string&, const std::string&)) {
  MountingStart out;
  TempDir dir;
  std::string d = dir.path();
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(::mkdir((d + "/l" + std::to_string(i)).c_str(), 0755), 0);
    EXPECT_TRUE(put_file(d + "/l" + std::to_string(i) + "/f" + std::to_string(i), "layer"));
  }
  EXPECT_EQ(::mkdir((d + "/m1").c_str(), 0755), 0);
  EXPECT_EQ(::mkdir((d + "/m2").c_str(), 0755), 0);
  std::string events = d + "/events.jsonl", log = d + "/agent.log";
  Child agent = start_agent(events, log, agent_args);
  if (!agent_attached(log)) {
    ADD_FAILURE() << read_text(log);
    return out;
  }
  auto parent = CgroupDir::create(cgroup_layout().v2, next_launch_cgroup_name());
  if (!parent) {
    ADD_FAILURE() << parent.error();
    return out;
  }
  std::string cg = parent->path() + "/" + unit;
  EXPECT_EQ(::mkdir(cg.c_str(), 0755), 0);
  out.pid = ::fork();
  if (out.pid == 0) {
    if (::chdir(d.c_str()) != 0) _exit(19);
    mount_and_exec(cg + "/cgroup.procs", d);
  }
  int status = 0;
  if (out.pid > 0) ::waitpid(out.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  std::string cgroup = cg.substr(cgroup_layout().v2.size());
  bool recorded = wait_for([&] { return !records_of(events, cgroup).empty(); }, 10);
  wait_for([&] { return ::rmdir(cg.c_str()) == 0 || errno == ENOENT; }, 5);
  int agent_status = agent.stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(agent_status) && WEXITSTATUS(agent_status) == 0) << read_text(log);
  EXPECT_TRUE(parent->remove());
  if (recorded) out.record = records_of(events, cgroup).at(0);
  else ADD_FAILURE() << read_text(events);
  return out;
}

/// Two overlay mounts of 3 and 2 layers, each made before the exec by the start's own process.
void expect_two_mounts_before_exec(const MountingStart& s) {
  const nlohmann::json& r = s.record;
  EXPECT_EQ(r["exit_status"], 0) << r.dump();
  ASSERT_TRUE(r.contains("overlay_mounts")) << r.dump();
  ASSERT_EQ(r["overlay_mounts"].size(), 2u) << r.dump();
  EXPECT_EQ(r["overlay_mounts"][0]["lower_layers"], 3) << r.dump();
  EXPECT_EQ(r["overlay_mounts"][1]["lower_layers"], 2) << r.dump();
  for (const auto& m : r["overlay_mounts"]) {
    // From the child's move into its cgroup, before its exec.
    EXPECT_GT(m["at"].get<double>(), 0.0) << r.dump();
    EXPECT_LT(m["at"].get<double>(), r["time_to_exec"].get<double>()) << "made before the exec: " << r.dump();
    EXPECT_GT(m["seconds"].get<double>(), 0.0) << r.dump();
    EXPECT_EQ(m["pid"], s.pid) << r.dump();
  }
}

// fsopen + fsconfig lowerdir+ x3 + fsmount + move_mount, then a raw mount(2):
// seen by the syscall tracepoints (--syscall-probes), not by libc uprobes.
TEST(WatchE2E, OverlayMountsByRawSyscallsAndTheNewMountApiWithSyscallProbes) {
  if (!is_root_with_bpf()) GTEST_SKIP() << "needs root: loads BPF programs, makes cgroups and mounts";
  MountingStart s = watch_a_mounting_start({"--syscall-probes"}, "image-syscalls.service", syscall_mounts_then_exec);
  ASSERT_FALSE(s.record.is_null());
  expect_two_mounts_before_exec(s);
  std::printf("overlay mounts by raw syscalls before the start's exec: %s\n", s.record["overlay_mounts"].dump().c_str());
}

TEST(WatchE2E, OverlayMountsMadeForAStartInANewMountNamespace) {
  if (!is_root_with_bpf()) GTEST_SKIP() << "needs root: loads BPF programs, makes cgroups and mounts";
  MountingStart s = watch_a_mounting_start({"--libc-probes"}, "image.service", mount_then_exec);
  ASSERT_FALSE(s.record.is_null());
  const nlohmann::json& r = s.record;
  EXPECT_EQ(r["outcome"], "exited") << r.dump();
  EXPECT_EQ(r["new_mount_namespace"], true) << r.dump();
  EXPECT_EQ(r["t0"], "cgroup_join") << r.dump();
  expect_two_mounts_before_exec(s);
  std::printf("overlay mounts before the start's exec: %s\n", r["overlay_mounts"].dump().c_str());
}

}  // namespace
}  // namespace coldstart::test
