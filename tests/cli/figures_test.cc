// Issue 16, "every figure coldstart prints is right, or says why it cannot
// be": one end-to-end test per reported case, each run against real
// processes and cgroups, each failing on the code the issue was filed against.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "background.h"
#include "launch/launch_test_util.h"

extern char** environ;

namespace coldstart {
namespace {

using namespace std::chrono_literals;

using test::Background;

/// term-counter's log: how many SIGTERMs each pid got, and which pids exist.
struct TermLog {
  std::map<int, int> terms;
  std::vector<int> pids;  // READY + CHILD lines
  bool ready = false;
};

TermLog read_term_log(const std::string& path) {
  TermLog log;
  std::istringstream in(test::read_text(path));
  int pid;
  std::string what;
  while (in >> pid >> what) {
    if (what == "TERM") ++log.terms[pid];
    else log.pids.push_back(pid);
    if (what == "READY") log.ready = true;
  }
  return log;
}

bool wait_tree_up(const std::string& log, size_t processes) {
  for (int i = 0; i < 1000; ++i) {
    TermLog l = read_term_log(log);
    if (l.ready && l.pids.size() >= processes) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

// Issue 16 item 6: one `kill -TERM` to `coldstart run` made redis (several
// threads) log "Received SIGTERM" twice. Every process of a multi-threaded
// tree must get exactly one SIGTERM.
TEST(FiguresRun, OneSigtermToEachProcessOfAMultiThreadedTree) {
  test::TempDir dir;
  std::string log = dir.path() + "/terms";
  Background run({test::coldstart_binary(), "run", "--ready", "notify", "--", test::fixture("term-counter"), log, "4",
                  "2"});
  ASSERT_TRUE(wait_tree_up(log, 3)) << run.err();
  run.signal(SIGTERM);
  auto code = run.wait(10s);
  ASSERT_TRUE(code) << run.err();
  TermLog l = read_term_log(log);
  ASSERT_EQ(l.pids.size(), 3u);
  for (int pid : l.pids) {
    EXPECT_EQ(l.terms[pid], 1) << "pid " << pid << " got " << l.terms[pid] << " SIGTERMs\n" << run.err();
    EXPECT_FALSE(test::process_alive(pid));
  }
}

// The rest of item 6: a tree that ignores SIGTERM gets it once, then SIGKILL
// after the grace period (--timeout-stop), and nothing is left.
TEST(FiguresRun, SigkillAfterTheGraceWhenSigtermIsIgnored) {
  test::TempDir dir;
  std::string log = dir.path() + "/terms";
  Background run({test::coldstart_binary(), "run", "--ready", "notify", "--timeout-stop", "400ms", "--",
                  test::fixture("term-counter"), log, "2", "1", "ignore"});
  ASSERT_TRUE(wait_tree_up(log, 2)) << run.err();
  auto t0 = std::chrono::steady_clock::now();
  run.signal(SIGTERM);
  auto code = run.wait(10s);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(code) << run.err();
  EXPECT_GE(took, 350ms);  // it waited for the grace period
  EXPECT_LT(took, 5s) << run.err();
  TermLog l = read_term_log(log);
  ASSERT_EQ(l.pids.size(), 2u);
  for (int pid : l.pids) {
    EXPECT_EQ(l.terms[pid], 1) << "pid " << pid << "\n" << run.err();
    EXPECT_FALSE(test::process_alive(pid));
  }
}

// bench's stop: under a CPU limit a process is in the v2 cgroup and in the
// v1 cpu cgroup, and each hierarchy was signalled: two SIGTERMs.
TEST(FiguresBench, StopUnderALimitSendsOneSigterm) {
  test::TempDir dir;
  std::string log = dir.path() + "/terms";
  auto r = test::run_shell(test::cs("bench --runs 2 --warmup 0 --ready notify --cpu-max 200ms/100ms '" +
                                    test::fixture("term-counter") + " " + log + " 3 1'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  TermLog l = read_term_log(log);
  ASSERT_EQ(l.pids.size(), 4u);  // 2 runs x (main + child)
  for (int pid : l.pids) EXPECT_EQ(l.terms[pid], 1) << "pid " << pid;
}

// Issue 16 item 8: redis writes its bind error to stdout; bench said only
// "exit code 1 before ready".
TEST(FiguresBench, FailureShowsTheLastLinesOfStdoutAndStderrLabelled) {
  auto r = test::run_shell(test::cs(
      "bench --runs 1 --ready tcp:127.0.0.1:1 \"sh -c 'echo Could not create server TCP listening socket; "
      "echo second line; echo warning on stderr >&2; exit 1'\""));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exit code 1 before ready"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stdout ends with:\n  Could not create server TCP listening socket\n  second line\n"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("stderr ends with:\n  warning on stderr\n"), std::string::npos) << r.err;
}

// Issue 16 item 10.
TEST(FiguresFlags, NegativeRunsIsAClearError) {
  auto r = test::run_shell(test::cs("bench --runs -1 /bin/true"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "coldstart: error: bad --runs '-1': want a whole number from 1 to 1000000\n");
  auto w = test::run_shell(test::cs("bench --warmup=-3 /bin/true"));
  EXPECT_EQ(w.exit_code, 2);
  EXPECT_EQ(w.err, "coldstart: error: bad --warmup '-3': want a whole number from 0 to 1000000\n");
}

TEST(FiguresFlags, MistypedSubcommandAndOptionGetASuggestion) {
  auto sub = test::run_shell(test::cs("prewarm recrod -o /tmp/x -- /bin/true"));
  EXPECT_EQ(sub.exit_code, 2);
  EXPECT_EQ(sub.err,
            "coldstart: error: unknown prewarm subcommand 'recrod' (did you mean 'record'?); want one of apply, "
            "evict, status, record\n");
  auto opt = test::run_shell(test::cs("bench --rnus 3 /bin/true"));
  EXPECT_EQ(opt.exit_code, 2);
  EXPECT_EQ(opt.err,
            "coldstart: error: unknown option '--rnus' for 'bench' (did you mean '--runs'?); see coldstart bench "
            "--help\n");
}

TEST(FiguresFlags, ColdWithPrewarmIsAnError) {
  test::TempDir dir;
  auto r = test::run_shell(test::cs("bench --cold --prewarm " + dir.path() + "/m.json /bin/true"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "coldstart: error: --cold and --prewarm exclude each other (--prewarm evicts, then loads the manifest, "
            "before every run)\n");
}


/// A listening TCP socket on 127.0.0.1:port, held by this test process.
class Listener {
 public:
  explicit Listener(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(fd_, 16) == 0;
  }
  ~Listener() { ::close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

// Issue 16 item 1: with the port already held, a failed start was reported
// as "Time to ready 284.9 µs", exit 0.
TEST(FiguresReady, TcpTargetThatAnswersBeforeTheStartIsAnError) {
  uint16_t port = test::free_port();
  Listener other(port);
  ASSERT_TRUE(other.ok());
  std::string spec = "tcp:127.0.0.1:" + std::to_string(port);
  auto r = test::run_shell(test::cs("bench --runs 3 --ready " + spec + " 'redis-server --port " +
                                    std::to_string(port) + " --save \"\" --appendonly no'"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(r.err, "coldstart: error: 127.0.0.1:" + std::to_string(port) +
                       " answers before the start: another process holds it (" + spec + ")\n");
  EXPECT_EQ(r.out.find("Time to ready"), std::string::npos);
}

// The rest of item 1: a process outside the launched tree that starts
// answering after the spawn does not make the launch ready.
TEST(FiguresReady, TcpAnswerCountsOnlyFromASocketOfTheTree) {
  test::TempDir dir;
  uint16_t port = test::free_port();
  std::string mark = dir.path() + "/started";
  Background bench({test::coldstart_binary(), "bench", "--runs", "1", "--ready-timeout", "1500ms", "--ready",
                    "tcp:127.0.0.1:" + std::to_string(port), "sh -c 'touch " + mark + "; exec sleep 5'"});
  for (int i = 0; i < 1000 && !std::filesystem::exists(mark); ++i) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(std::filesystem::exists(mark)) << bench.err();
  Listener foreign(port);  // after the pre-spawn check: only ownership can tell
  ASSERT_TRUE(foreign.ok());
  auto code = bench.wait(10s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1) << bench.err();
  EXPECT_NE(bench.err().find("not ready after 1.5"), std::string::npos) << bench.err();
}

// And a real server that owns its port is ready (redis).
TEST(FiguresReady, TcpReadyOfARealServerThatOwnsItsPort) {
  uint16_t port = test::free_port();
  auto r = test::run_shell(test::cs("bench --runs 2 --json --ready tcp:127.0.0.1:" + std::to_string(port) +
                                    " 'redis-server --port " + std::to_string(port) +
                                    " --save \"\" --appendonly no'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["results"][0]["times"].size(), 2u);
  EXPECT_GT(j["results"][0]["median"].get<double>(), 0.0002);  // a real start, not a foreign answer
}

uint64_t file_pages(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return (static_cast<uint64_t>(st.st_size) + 4095) / 4096;
}

// Issue 16 item 3: --prewarm counted /lib/... and /usr/lib/... twice,
// reported residency from before the load, and dropped apply's warnings.
TEST(FiguresPrewarm, FilesByInodeResidencyAfterLoadWarningsOnce) {
  test::TempDir dir;
  std::string m = dir.path() + "/m.json";
  auto rec = test::run_shell(test::cs("prewarm record -o " + m + " -- /bin/true"));
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  auto manifest = nlohmann::json::parse(test::read_text(m));
  uint64_t recorded = 0;
  std::set<std::pair<uint64_t, uint64_t>> inodes;
  uint64_t unique_pages = 0;
  auto count = [&](const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && inodes.insert({st.st_dev, st.st_ino}).second) unique_pages += file_pages(path);
  };
  std::set<uint64_t> recorded_inodes;
  for (auto& f : manifest["files"]) {
    EXPECT_TRUE(recorded_inodes.insert(f["inode"].get<uint64_t>()).second) << "recorded twice: " << f["path"];
    std::string path = f["path"];
    for (auto& range : f["ranges"]) recorded += range[1].get<uint64_t>();
    // The same file by its other name: /lib is a symlink to usr/lib here.
    if (path.starts_with("/lib/")) f["path"] = "/usr" + path;
    count(f["path"]);
  }
  manifest["files"].push_back({{"path", "/nonexistent/coldstart-issue16"}, {"device", 1}, {"inode", 1}, {"size", 4096},
                               {"mtime_ns", 0}, {"ranges", {{0, 1}}}});
  test::write_file(m, manifest.dump());
  count("/bin/true");
  auto ldd = test::run_shell("ldd /bin/true | grep -o '/[^ ]*'");
  std::istringstream libs(ldd.out);
  for (std::string lib; libs >> lib;) count(lib);

  auto j = test::run_shell(test::cs("bench --runs 2 --json --prewarm " + m + " /bin/true"));
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto run = nlohmann::json::parse(j.out)["results"][0]["runs"][0];
  EXPECT_EQ(run["file_pages"].get<uint64_t>(), unique_pages);
  // At run start, after the load: at least what the manifest loads is resident.
  EXPECT_GE(run["resident_at_start_pages"].get<uint64_t>(), recorded);

  auto t = test::run_shell(test::cs("bench --runs 3 --prewarm " + m + " /bin/true"));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  size_t n = 0;
  for (size_t at = t.out.find("/nonexistent/coldstart-issue16"); at != std::string::npos;
       at = t.out.find("/nonexistent/coldstart-issue16", at + 1))
    ++n;
  EXPECT_EQ(n, 1u) << t.out;
  EXPECT_NE(t.out.find("Warning: prewarm: /nonexistent/coldstart-issue16: missing, skipped"), std::string::npos)
      << t.out;
}

// Issue 16 item 4: as nobody, CPU read 0.0 µs, --cold read "100.0% at run
// start", and nothing said the launch fell back to a process group.
TEST(FiguresUnprivileged, FallbackStatedOnceAndUnmeasurableFiguresUnavailable) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become nobody";
  std::string as_nobody = "setpriv --reuid=nobody --regid=nogroup --clear-groups ";
  std::string args = "bench --runs 2 --cold --ready log:ready '" + test::fixture("launch-fixture") + " log 5'";
  auto j = test::run_shell("cd / && " + as_nobody + test::coldstart_binary() + " bench --json" + args.substr(5));
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_TRUE(doc["isolation"].get<std::string>().starts_with("process group")) << doc["isolation"];
  auto unavailable = doc["unavailable"].dump();
  EXPECT_NE(unavailable.find("user and system CPU time"), std::string::npos) << unavailable;
  EXPECT_NE(unavailable.find("page-cache residency"), std::string::npos) << unavailable;
  auto& run = doc["results"][0]["runs"][0];
  EXPECT_TRUE(run["user"].is_null()) << run;
  EXPECT_TRUE(run["system"].is_null()) << run;
  EXPECT_TRUE(run["resident_at_start_pages"].is_null()) << run;
  EXPECT_TRUE(doc["results"][0]["user"].is_null());

  auto t = test::run_shell("cd / && " + as_nobody + test::coldstart_binary() + " " + args);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  size_t first = t.out.find("Isolation: process group");
  EXPECT_NE(first, std::string::npos) << t.out;
  EXPECT_EQ(t.out.find("Isolation:", first + 1), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("user unavailable, system unavailable"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("residency unknown"), std::string::npos) << t.out;
  EXPECT_EQ(t.out.find("100.0%"), std::string::npos) << t.out;
}

// Issue 16 item 5: /bin/true showed "peak RSS 5.8 MiB" (the launcher's
// memory, through the vfork child); /usr/bin/time says ~1 MiB.
TEST(FiguresRss, PeakRssIsTheTargetsOwnAsTimeReportsIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "exit statistics (taskstats) need CAP_NET_ADMIN";
  auto t = test::run_shell("for i in 1 2 3; do /usr/bin/time -f %M /bin/true; done 2>&1");
  std::istringstream in(t.out);
  uint64_t time_max = 0;
  for (uint64_t kb; in >> kb;) time_max = std::max(time_max, kb * 1024);
  ASSERT_GT(time_max, 0u) << t.out;
  auto r = test::run_shell(test::cs("bench --runs 3 --json /bin/true"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (auto& run : nlohmann::json::parse(r.out)["results"][0]["runs"]) {
    ASSERT_TRUE(run["peak_rss_bytes"].is_number()) << run;
    uint64_t ours = run["peak_rss_bytes"];
    // Both read the same kernel counter (per-CPU batched: up to 256 KiB apart here).
    EXPECT_LE(ours, time_max + 384 * 1024) << "time -f %M: " << time_max;
    EXPECT_GE(ours + 384 * 1024, time_max) << "time -f %M: " << time_max;
  }
  // A static no-op is far smaller than the launcher (old: the same 5.8 MiB).
  auto s = test::run_shell(test::cs("bench --runs 2 --json " + test::fixture("noop-static")));
  ASSERT_EQ(s.exit_code, 0) << s.err;
  for (auto& run : nlohmann::json::parse(s.out)["results"][0]["runs"]) EXPECT_LT(run["peak_rss_bytes"], 512 * 1024);
}

// Issue 16 item 2: `--cold "setpriv ... postgres"` evicted only setpriv and
// its libraries, and the "cold" median came out below the warm one.
TEST(FiguresCold, BehindAWrapperTheExecdProgramsFilesAreEvicted) {
  uint16_t port = test::free_port();
  std::string redis = "redis-server --port " + std::to_string(port) + " --save \"\" --appendonly no";
  std::string ready = " --ready tcp:127.0.0.1:" + std::to_string(port) + " ";
  auto direct = test::run_shell(test::cs("bench --cold --runs 2 --json" + ready + "'" + redis + "'"));
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  auto wrapped = test::run_shell(test::cs("bench --cold --runs 2 --json" + ready + "'env " + redis + "'"));
  ASSERT_EQ(wrapped.exit_code, 0) << wrapped.err;
  auto d = nlohmann::json::parse(direct.out)["results"][0];
  auto w = nlohmann::json::parse(wrapped.out)["results"][0];
  // The wrapped cold set holds redis's files (and env's): at least the direct one.
  EXPECT_GE(w["runs"][0]["file_pages"].get<uint64_t>(), d["runs"][0]["file_pages"].get<uint64_t>());
  EXPECT_NE(w["notes"].dump().find("env execs another program"), std::string::npos) << w["notes"];

  // With --ready exit the tree is gone at ready: the cold set is unknown, so no cold figure.
  auto gone = test::run_shell(test::cs("bench --cold --runs 1 'env /bin/true'"));
  EXPECT_EQ(gone.exit_code, 2);
  EXPECT_NE(gone.err.find("the cold set is unknown"), std::string::npos) << gone.err;
  EXPECT_EQ(gone.out, "");
}

}  // namespace
}  // namespace coldstart
