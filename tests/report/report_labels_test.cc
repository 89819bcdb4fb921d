// Issue 16 item 9: the report mislabelled and misdrew. Labels come from what
// differs, every chart keeps one scale at every size, and benches of the same
// command in separate files share one time axis.
#include <gtest/gtest.h>

#include <regex>

#include "report/bench_charts.h"
#include "report/bench_model.h"
#include "report/report_page.h"

namespace coldstart::report {
namespace {

BenchCommand cmd(std::string command, std::string mode, std::vector<double> times) {
  BenchCommand c;
  c.command = std::move(command);
  c.mode = std::move(mode);
  c.times = std::move(times);
  return c;
}

std::vector<std::string> strong_labels(const std::string& html) {
  std::vector<std::string> out;
  std::regex re("<text[^>]*class=\"strong\"[^>]*>([^<]*)</text>");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

TEST(ReportLabels, TheProgramBehindAWrapperNamesTheCommand) {
  EXPECT_EQ(service_name("setpriv --reuid=postgres --regid=postgres --init-groups /usr/lib/postgresql/15/bin/postgres -D /x"),
            "postgres");
  EXPECT_EQ(service_name("setpriv --reuid postgres postgres -D /x"), "postgres");
  EXPECT_EQ(service_name("env GOMAXPROCS=1 FOO=bar ./svc --flag"), "svc");
  EXPECT_EQ(service_name("nice -n 5 taskset -c 0-1 redis-server --port 1"), "redis-server");
  EXPECT_EQ(service_name("taskset 0x3 nginx -g 'daemon off;'"), "nginx");
  EXPECT_EQ(service_name("/usr/bin/redis-server --port 1"), "redis-server");
}

// "two configurations of one program are both 'redis-server (warm)'".
TEST(ReportLabels, TwoConfigurationsOfOneProgramAreToldApart) {
  BenchSet set;
  set.source = "b.json";
  set.commands = {cmd("redis-server --port 7001 --save ''", "warm", {0.010, 0.011, 0.012}),
                  cmd("redis-server --port 7002 --save ''", "warm", {0.020, 0.021, 0.022}),
                  cmd("setpriv --reuid=postgres postgres -D /x", "cold", {0.05, 0.06, 0.07})};
  std::string html = bench_html(set, 0);
  auto labels = strong_labels(html);
  ASSERT_GE(labels.size(), 3u);
  EXPECT_EQ(labels[0], "redis-server --port 7001 (warm)");
  EXPECT_EQ(labels[1], "redis-server --port 7002 (warm)");
  EXPECT_EQ(labels[2], "postgres (cold)");
  EXPECT_EQ(html.find("setpriv (cold)"), std::string::npos);
}

// "a bench with one command gets a histogram with fonts ~3x larger": a chart
// is never drawn wider than its own coordinate system, so its 12px text stays
// 12px whatever the number of charts beside it.
TEST(ReportLabels, EveryChartKeepsItsOwnScale) {
  BenchSet one;
  one.source = "one.json";
  one.commands = {cmd("./a", "warm", {0.010, 0.011, 0.012, 0.013})};
  std::string html = bench_html(one, 0);
  std::regex svg("<svg [^>]*width=\"([0-9.]+)\"[^>]*style=\"max-width: ([0-9.]+)px\"");
  size_t n = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), svg); it != std::sregex_iterator(); ++it, ++n)
    EXPECT_EQ((*it)[1], (*it)[2]);
  size_t svgs = 0;
  for (size_t at = html.find("<svg "); at != std::string::npos; at = html.find("<svg ", at + 1)) ++svgs;
  EXPECT_EQ(n, svgs);  // every chart has it
  EXPECT_GE(n, 2u);  // box plot and histogram
}

std::vector<std::string> boxplot_ticks(const std::string& html, size_t index) {
  size_t at = html.find("id=\"bench-" + std::to_string(index) + "-boxplot\"");
  size_t end = html.find("</svg>", at);
  std::string svg = html.substr(at, end - at);
  std::vector<std::string> out;
  std::regex re("class=\"tick\"[^>]*>([^<]*)<");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

// "cold and prewarm benches from separate files cannot be put on one axis".
TEST(ReportLabels, BenchesOfTheSameCommandAcrossFilesShareOneAxis) {
  ReportInputs in;
  BenchSet cold, prewarm, other;
  cold.source = "cold.json";
  cold.commands = {cmd("/usr/bin/redis-server --port 1", "cold", {0.030, 0.034, 0.040})};
  prewarm.source = "prewarm.json";
  prewarm.commands = {cmd("redis-server --port 1", "prewarm", {0.004, 0.005, 0.006})};
  other.source = "other.json";
  other.commands = {cmd("./unrelated", "warm", {0.0005, 0.0006})};
  in.benches = {cold, prewarm, other};
  std::string page = render_report(in);
  auto a = boxplot_ticks(page, 0), b = boxplot_ticks(page, 1), c = boxplot_ticks(page, 2);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);  // an unrelated command keeps its own axis
  EXPECT_NE(page.find("Same time axis as <code>prewarm.json</code>"), std::string::npos);
}

}  // namespace
}  // namespace coldstart::report
