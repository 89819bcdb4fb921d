// End-to-end test of `coldstart report`: real bench and trace runs of the Go
// fixtures through the built binary, the HTML they make, rendered by headless
// Debian Chromium. The screenshot is kept as a CI artifact
// (<build>/artifacts/report.png); the DOM dump is checked for the figures the
// issue asks for, with the sizes the page's inline script wrote into
// data-width/data-height from getBoundingClientRect().
//
// Chromium forks zygote, GPU and renderer helpers: it runs in its own process
// group, and every path (done, timeout, test failure) SIGKILLs that group by
// the leader's pgid and reaps the leader, so no helper survives the test.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "launch/launch_test_util.h"

namespace coldstart {
namespace {

constexpr const char* kChromium = "/usr/bin/chromium";


/// One headless Chromium invocation in its own process group, killed as a group on every path.
class Chromium {
 public:
  /// Runs Chromium with `args` on `url`, stdout to `out_path`; false on timeout or failure to start.
  bool run(const std::vector<std::string>& args, const std::string& url, const std::string& out_path,
           const std::string& profile, double timeout_s) {
    std::vector<std::string> argv = {kChromium,
                                     "--headless",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--disable-quic",
                                     "--no-first-run",
                                     "--disable-background-networking",
                                     "--disable-component-update",
                                     "--disable-sync",
                                     "--user-data-dir=" + profile,
                                     "--window-size=1400,2000"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(url);
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      ::setpgid(0, 0);
      FILE* out = std::freopen(out_path.c_str(), "w", stdout);
      FILE* err = std::freopen("/dev/null", "w", stderr);
      (void)out;
      (void)err;
      ::execv(kChromium, cargv.data());
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);  // also from the parent: no window where the group does not exist
    int64_t deadline = monotonic_ns() + static_cast<int64_t>(timeout_s * 1e9);
    while (monotonic_ns() < deadline) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        ::kill(-pid_, SIGKILL);  // helpers that outlive the browser process
        pid_ = -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;  // timed out: the destructor kills the group
  }
  ~Chromium() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

/// data-width of the element with `id` in a dumped DOM, or -1 when absent.
double chart_size(const std::string& dom, const std::string& id, const char* attr) {
  std::regex tag("<svg[^>]*id=\"" + id + "\"[^>]*>");
  std::smatch m;
  if (!std::regex_search(dom, m, tag)) return -1;
  std::smatch v;
  std::string t = m.str();
  if (!std::regex_search(t, v, std::regex(std::string(attr) + "=\"([0-9.]+)\""))) return 0;
  return std::stod(v[1]);
}

TEST(ReportCli, RealBenchAndTraceRenderInHeadlessChromium) {
  if (::access(kChromium, X_OK) != 0) GTEST_SKIP() << "no " << kChromium << " (scripts/setup installs it)";
  test::TempDir dir;
  std::string bench_json = dir.path() + "/bench.json", trace_json = dir.path() + "/trace.json",
              html = dir.path() + "/report.html";
  std::string addr = "ADDR=127.0.0.1:" + std::to_string(test::free_port());
  auto bench = test::run_shell(test::coldstart_binary() + " bench --ready notify --runs 4 --warmup 1 --env " + addr +
                               " --export-json " + bench_json + " " + test::fixture("go-user-service-static") + " " +
                               test::fixture("go-user-service-pie"));
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  auto trace = test::run_shell(test::coldstart_binary() + " trace --backend bpf --ready notify --env " + addr +
                               " --json -- " + test::fixture("go-user-service-static") + " >" + trace_json);
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  auto report = test::run_shell(test::coldstart_binary() + " report " + bench_json + " " + trace_json + " -o " + html);
  ASSERT_EQ(report.exit_code, 0) << report.err;

  std::filesystem::path artifacts = std::filesystem::path(COLDSTART_FIXTURE_DIR).parent_path() / "artifacts";
  std::filesystem::create_directories(artifacts);
  std::string png = (artifacts / "report.png").string();
  std::filesystem::remove(png);
  std::string url = "file://" + html;
  {
    Chromium shot;
    ASSERT_TRUE(shot.run({"--hide-scrollbars", "--screenshot=" + png}, url, dir.path() + "/shot.out",
                         dir.path() + "/profile-shot", 90));
  }
  ASSERT_TRUE(std::filesystem::exists(png));
  std::string head = test::read_text(png).substr(0, 8);
  EXPECT_EQ(head, "\x89PNG\r\n\x1a\n");
  EXPECT_GT(std::filesystem::file_size(png), 20000u);  // a page of charts, not a blank one

  std::string dom_path = dir.path() + "/dom.html";
  {
    Chromium dump;
    ASSERT_TRUE(dump.run({"--dump-dom"}, url, dom_path, dir.path() + "/profile-dom", 90));
  }
  std::string dom = test::read_text(dom_path);
  ASSERT_NE(dom.find("</html>"), std::string::npos) << dom.substr(0, 500);
  for (const char* id : {"trace-0-waterfall", "bench-0-boxplot", "bench-0-hist-0", "bench-0-hist-1",
                         "bench-0-comparison"}) {
    EXPECT_GT(chart_size(dom, id, "data-width"), 100) << id;
    EXPECT_GT(chart_size(dom, id, "data-height"), 20) << id;
  }
  EXPECT_NE(dom.find("go-user-service-pie"), std::string::npos);
  EXPECT_TRUE(dom.find("faster") != std::string::npos || dom.find("slower") != std::string::npos ||
              dom.find("same") != std::string::npos);
}

// Issue 16 item 9: a bench with one command drew its histogram ~2-3x larger
// (fonts included) than a bench with two. In Chromium every histogram must
// render at one size, never above its own coordinate width.
TEST(ReportCli, OneChartStyleAtEverySizeInHeadlessChromium) {
  if (::access(kChromium, X_OK) != 0) GTEST_SKIP() << "no " << kChromium << " (scripts/setup installs it)";
  test::TempDir dir;
  std::string one = dir.path() + "/one.json", two = dir.path() + "/two.json", html = dir.path() + "/r.html";
  auto b1 = test::run_shell(test::coldstart_binary() + " bench --runs 4 --export-json " + one + " /bin/true");
  ASSERT_EQ(b1.exit_code, 0) << b1.err;
  auto b2 = test::run_shell(test::coldstart_binary() + " bench --runs 4 --export-json " + two + " /bin/true " +
                            test::fixture("noop-static"));
  ASSERT_EQ(b2.exit_code, 0) << b2.err;
  auto report = test::run_shell(test::coldstart_binary() + " report " + one + " " + two + " -o " + html);
  ASSERT_EQ(report.exit_code, 0) << report.err;
  std::string dom_path = dir.path() + "/dom.html";
  {
    Chromium dump;
    ASSERT_TRUE(dump.run({"--dump-dom"}, "file://" + html, dom_path, dir.path() + "/profile", 90));
  }
  std::string dom = test::read_text(dom_path);
  double alone = chart_size(dom, "bench-0-hist-0", "data-width");
  double beside = chart_size(dom, "bench-1-hist-0", "data-width");
  EXPECT_GT(alone, 100);
  EXPECT_EQ(alone, beside);
  EXPECT_EQ(beside, chart_size(dom, "bench-1-hist-1", "data-width"));
  EXPECT_LE(alone, 520);  // the histogram's own width: never scaled up
  EXPECT_EQ(chart_size(dom, "bench-0-boxplot", "data-width"), chart_size(dom, "bench-1-boxplot", "data-width"));
}

}  // namespace
}  // namespace coldstart
