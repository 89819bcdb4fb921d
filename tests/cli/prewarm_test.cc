// End-to-end `coldstart prewarm`: record -> evict -> status -> apply -> status
// on a real service, changed/missing/refused files, bad manifests, --lock.
// Every test works on private copies in a temp dir (a static Go service, so the
// only file of its start is that copy): evicting them cannot slow down any
// other test, so this suite need not run alone.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace coldstart {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string cs() { return test::coldstart_binary(); }

std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

json status_json(const std::string& target) {
  auto r = test::run_shell(cs() + " prewarm status --json " + target);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

/// A manifest of `files` as they are now, each with `ranges`.
std::string manifest_for(const std::string& path, const std::vector<std::string>& files, const json& ranges) {
  json m = {{"format", "coldstart-prewarm-manifest"},
            {"version", 1},
            {"page_size", 4096},
            {"files", json::array()}};
  for (const std::string& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) std::abort();
    m["files"].push_back({{"path", f},
                          {"device", st.st_dev},
                          {"inode", st.st_ino},
                          {"size", st.st_size},
                          {"mtime_ns", st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec},
                          {"ranges", ranges}});
  }
  return write_text(path, m.dump());
}

TEST(Prewarm, RecordEvictStatusApplyStatus) {
  test::TempDir dir;
  std::string bin = test::copy_fixture(dir, "go-user-service-static");
  std::string m = dir.path() + "/m.json";
  auto rec =
      test::run_shell("ADDR=127.0.0.1:0 " + cs() + " prewarm record --ready notify -o " + m + " -- " + bin);
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  EXPECT_NE(rec.out.find("(pagemap+filemap-trace;"), std::string::npos) << rec.out;
  json manifest = json::parse(std::ifstream(m));
  ASSERT_EQ(manifest["files"].size(), 1u);
  EXPECT_EQ(manifest["files"][0]["path"], bin);
  EXPECT_EQ(manifest["recorded_with"], "pagemap+filemap-trace");

  auto ev = test::run_shell(cs() + " prewarm evict " + m);
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  json before = status_json(m);
  uint64_t recorded = before["recorded_pages"];
  uint64_t pages = before["pages"];
  EXPECT_GT(recorded, 50u);
  // Page tables, not readahead: the start needed part of the binary, not all of it.
  EXPECT_LT(recorded, pages);
  EXPECT_EQ(before["recorded_resident_pages"], 0u);

  auto ap = test::run_shell(cs() + " prewarm apply --json " + m);
  ASSERT_EQ(ap.exit_code, 0) << ap.err;
  json applied = json::parse(ap.out);
  EXPECT_EQ(applied["files_loaded"], 1u);
  EXPECT_EQ(applied["pages"], recorded);
  EXPECT_GT(applied["seconds"].get<double>(), 0);
  json after = status_json(m);
  EXPECT_EQ(after["recorded_resident_pages"], recorded);
  // Loaded about the recorded set, not the whole file (fault-around of a later
  // read may add a little, but far from all of it).
  EXPECT_LT(after["resident_pages"].get<uint64_t>(), pages);

  auto human = test::run_shell(cs() + " prewarm status " + m);
  // Human counts have thousands separators (1,097).
  std::string count = std::to_string(recorded);
  for (int at = static_cast<int>(count.size()) - 3; at > 0; at -= 3) count.insert(static_cast<size_t>(at), ",");
  EXPECT_NE(human.out.find("recorded set: " + count), std::string::npos) << human.out;
}

// A config read and closed before ready is in no page table and no fd table at
// the ready instant: the traced discovery finds it by its open, and its
// residency after the evicted start is recorded.
TEST(Prewarm, RecordFindsAConfigReadAndClosedBeforeReady) {
  test::TempDir dir;
  std::string conf = write_text(dir.path() + "/service.conf", std::string(256 * 1024, 'x'));
  std::string m = dir.path() + "/m.json";
  auto rec = test::run_shell(cs() + " prewarm record --ready notify -o " + m +
                             " -- /bin/sh -c 'cat " + conf + " >/dev/null; systemd-notify --ready; exec sleep 30'");
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  EXPECT_EQ(rec.err.find("not recorded (no tracer"), std::string::npos) << rec.err;
  json manifest = json::parse(std::ifstream(m));
  bool found = false;
  std::set<std::pair<uint64_t, uint64_t>> files;  // one entry per file, whatever name it was opened by
  for (const auto& f : manifest["files"]) {
    EXPECT_TRUE(files.insert({f["device"].get<uint64_t>(), f["inode"].get<uint64_t>()}).second) << f["path"] << " twice";
    if (f["path"] != conf) continue;
    found = true;
    EXPECT_FALSE(f["ranges"].empty());
  }
  EXPECT_TRUE(found) << manifest.dump(1);
}

// The tree is gone at the ready instant: no page tables, so the page tracer's
// record is all there is (residency only where BPF cannot run).
TEST(Prewarm, RecordOfAProgramThatExitsIsThePageTracers) {
  test::TempDir dir;
  std::string bin = test::copy_fixture(dir, "noop-static");
  std::string m = dir.path() + "/m.json";
  auto rec = test::run_shell("cd " + dir.path() + " && " + cs() + " prewarm record --ready exit -o " + m + " -- ./" +
                             std::filesystem::path(bin).filename().string());
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  EXPECT_EQ(rec.err.find("recording by residency"), std::string::npos) << rec.err;
  json manifest = json::parse(std::ifstream(m));
  EXPECT_EQ(manifest["recorded_with"], "filemap-trace");
  ASSERT_EQ(manifest["files"].size(), 1u);
  EXPECT_EQ(manifest["files"][0]["path"], bin);  // absolute, though started as ./noop-static
  EXPECT_FALSE(manifest["files"][0]["ranges"].empty());
}

TEST(Prewarm, RecordOfAStartThatNeverGetsReadyFailsWithoutWritingAManifest) {
  test::TempDir dir;
  std::string m = dir.path() + "/m.json";
  auto rec = test::run_shell(cs() + " prewarm record --ready notify --ready-timeout 0.3 -o " + m +
                             " -- /bin/sleep 5");
  EXPECT_EQ(rec.exit_code, 2);
  EXPECT_NE(rec.err.find("did not become ready"), std::string::npos) << rec.err;
  EXPECT_FALSE(fs::exists(m));
}

TEST(Prewarm, ChangedAndMissingFilesAreSkippedWithWarningsTheRestApplied) {
  test::TempDir dir;
  std::string a = write_text(dir.path() + "/a", std::string(20000, 'a'));
  std::string b = write_text(dir.path() + "/b", std::string(20000, 'b'));
  std::string gone = write_text(dir.path() + "/gone", "x");
  std::string m = manifest_for(dir.path() + "/m.json", {a, b, gone}, json::array({json::array({0, 2})}));
  // The manifest's ranges for "gone" ([0,2]) exceed its 1 page: rewrite it with [0,1].
  json doc = json::parse(std::ifstream(m));
  doc["files"][2]["ranges"] = json::array({json::array({0, 1})});
  write_text(m, doc.dump());
  write_text(b, std::string(30000, 'c'));  // changed size and mtime
  fs::remove(gone);
  auto r = test::run_shell(cs() + " prewarm apply " + m);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("coldstart: warning: " + b + ": changed since recording (size 20000 -> 30000"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("coldstart: warning: " + gone + ": missing, skipped"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("loaded 2 pages (8.0 KiB) of 1 files"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("skipped 2 of 3 files"), std::string::npos) << r.out;
}

TEST(Prewarm, ApplyOfFilesLoadsThemWhole) {
  test::TempDir dir;
  std::string a = write_text(dir.path() + "/a", std::string(3 * 4096 + 10, 'a'));
  ::sync();
  ASSERT_EQ(test::run_shell(cs() + " prewarm evict " + a).exit_code, 0);
  auto r = test::run_shell(cs() + " prewarm apply --json " + a + " " + dir.path() + "/gone");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["pages"], 4u);
  EXPECT_EQ(j["bytes"], 3u * 4096 + 10);
  EXPECT_EQ(j["files"][1]["status"], "missing");
  EXPECT_NE(r.err.find(dir.path() + "/gone: missing, skipped"), std::string::npos) << r.err;
  EXPECT_EQ(status_json(a)["resident_pages"], 4u);
}

TEST(Prewarm, BadManifestsAreExit2WithTheReason) {
  test::TempDir dir;
  auto not_json =
      test::run_shell(cs() + " prewarm apply " + write_text(dir.path() + "/x.json", "{\"format\": "));
  EXPECT_EQ(not_json.exit_code, 2);
  EXPECT_NE(not_json.err.find("x.json: not JSON: "), std::string::npos) << not_json.err;
  EXPECT_EQ(std::count(not_json.err.begin(), not_json.err.end(), '\n'), 1);
  auto other =
      test::run_shell(cs() + " prewarm status " + write_text(dir.path() + "/y.json", "{\"runs\": []}"));
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("y.json: not a coldstart prewarm manifest: \"format\""), std::string::npos)
      << other.err;
  EXPECT_TRUE(other.out.empty());
  // --files: the same .json is just a file whose residency is shown.
  auto as_file = test::run_shell(cs() + " prewarm status --files --json " + dir.path() + "/y.json");
  EXPECT_EQ(as_file.exit_code, 0) << as_file.err;
  EXPECT_EQ(json::parse(as_file.out)["pages"], 1u);
  auto missing = test::run_shell(cs() + " prewarm apply " + dir.path() + "/none.json");
  EXPECT_EQ(missing.exit_code, 2);
  auto no_sub = test::run_shell(cs() + " prewarm");
  EXPECT_EQ(no_sub.exit_code, 2);
}

TEST(Prewarm, FifosDevicesAndSocketsAreRefusedNeverOpenedBlocking) {
  test::TempDir dir;
  std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // A blocking open of a FIFO without a writer would hang here; timeout guards the test.
  auto st = test::run_shell("timeout 10 " + cs() + " prewarm status " + fifo + " /dev/null");
  EXPECT_EQ(st.exit_code, 0);
  EXPECT_NE(st.err.find(fifo + ": a FIFO, refused"), std::string::npos) << st.err;
  EXPECT_NE(st.err.find("/dev/null: a character device, refused"), std::string::npos) << st.err;
  auto ev = test::run_shell("timeout 10 " + cs() + " prewarm evict " + fifo);
  EXPECT_EQ(ev.exit_code, 0);
  EXPECT_NE(ev.err.find("a FIFO, refused"), std::string::npos);
  std::string real = write_text(dir.path() + "/real", "x");
  std::string m = manifest_for(dir.path() + "/m.json", {real}, json::array({json::array({0, 1})}));
  json doc = json::parse(std::ifstream(m));
  doc["files"][0]["path"] = fifo;
  write_text(m, doc.dump());
  auto ap = test::run_shell("timeout 10 " + cs() + " prewarm apply " + m);
  EXPECT_EQ(ap.exit_code, 0);
  EXPECT_NE(ap.err.find("a FIFO, refused"), std::string::npos) << ap.err;
}

/// A shell command that ends by exec'ing coldstart, in the background; stopped
/// by its pid (the shell's pid becomes coldstart's).
class Background {
 public:
  explicit Background(const std::string& cmd) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  /// `sig` (SIGTERM by default), then the exit status.
  int terminate(int sig = SIGTERM) {
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

std::string wait_for_text(const std::string& path, const std::string& needle) {
  std::string text;
  for (int i = 0; i < 1000 && text.find(needle) == std::string::npos; ++i) {
    ::usleep(10000);
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return text;
}

TEST(Prewarm, LockKeepsThePagesResidentUntilSigterm) {
  test::TempDir dir;
  std::string f = write_text(dir.path() + "/data", std::string(64 * 4096, 'd'));
  ::sync();  // clean pages can be evicted
  std::string m = manifest_for(dir.path() + "/m.json", {f}, json::array({json::array({0, 16})}));
  std::string out = dir.path() + "/out";
  // Start from disk, as apply would on a cold node.
  ASSERT_EQ(json::parse(test::run_shell(cs() + " prewarm evict --json " + f).out)["resident_after"], 0u);
  Background lock("exec " + cs() + " prewarm apply --lock " + m + " >" + out + " 2>&1");
  std::string text = wait_for_text(out, "holding until SIGINT or SIGTERM");
  ASSERT_NE(text.find("locked 64.0 KiB in memory"), std::string::npos) << text;
  auto ev = test::run_shell(cs() + " prewarm evict --json " + f);
  // The locked pages stay; eviction works on folios, which may be larger than a page.
  uint64_t stayed = json::parse(ev.out)["resident_after"];
  EXPECT_GE(stayed, 16u) << ev.out;
  EXPECT_LT(stayed, 64u) << ev.out;
  EXPECT_EQ(lock.terminate(), 0);
  auto ev2 = test::run_shell(cs() + " prewarm evict --json " + f);
  EXPECT_EQ(json::parse(ev2.out)["resident_after"], 0u) << ev2.out;
}

TEST(Prewarm, LockWithoutThePrivilegeWarnsAndStillLoads) {
  if (::system("command -v capsh >/dev/null 2>&1") != 0) GTEST_SKIP() << "capsh (libcap2-bin) not installed";
  test::TempDir dir;
  std::string f = write_text(dir.path() + "/data", std::string(64 * 4096, 'd'));
  std::string m = manifest_for(dir.path() + "/m.json", {f}, json::array({json::array({0, 16})}));
  std::string out = dir.path() + "/out";
  // Lowering RLIMIT_MEMLOCK needs no privilege; without CAP_IPC_LOCK mlock then fails.
  Background lock("ulimit -l 0 && exec capsh --drop=cap_ipc_lock -- -c 'exec " + cs() +
                  " prewarm apply --lock " + m + "' >" + out + " 2>&1");
  std::string text = wait_for_text(out, "holding until SIGINT or SIGTERM");
  EXPECT_NE(text.find("coldstart: warning: mlock " + f + ": "), std::string::npos) << text;
  EXPECT_NE(text.find("(needs CAP_IPC_LOCK or a larger RLIMIT_MEMLOCK; pages stay mapped, not locked)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("loaded 16 pages (64.0 KiB) of 1 files"), std::string::npos) << text;
  EXPECT_NE(text.find("locked 0 B in memory"), std::string::npos) << text;
  EXPECT_EQ(lock.terminate(), 0);
}

TEST(Prewarm, InterruptedRecordStopsTheTreeAndWritesNothing) {
  test::TempDir dir;
  std::string m = dir.path() + "/m.json";
  std::string out = dir.path() + "/out";
  Background rec("exec " + cs() + " prewarm record --ready notify --ready-timeout 30 -o " + m +
                 " -- /bin/sleep 60 >" + out + " 2>&1");
  // Wait until the launch exists: its cgroup (or, without cgroups, a child process) appears.
  std::string children =
      "/proc/" + std::to_string(rec.pid()) + "/task/" + std::to_string(rec.pid()) + "/children";
  std::string kids;
  for (int i = 0; i < 500 && kids.empty(); ++i) {
    ::usleep(10000);
    std::ifstream in(children);
    std::getline(in, kids);
  }
  ASSERT_FALSE(kids.empty()) << "the launch never started";
  pid_t child = std::stoi(kids);
  EXPECT_EQ(rec.terminate(SIGINT), 130);
  EXPECT_FALSE(fs::exists(m));
  EXPECT_NE(::kill(child, 0), 0) << "the launched process survived";
}

}  // namespace
}  // namespace coldstart
