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

#include "chromium.h"
#include "core/clock.h"
#include "launch/launch_test_util.h"

namespace coldstart {
namespace {

using test::Chromium;
using test::chart_size;
using test::kChromium;




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
