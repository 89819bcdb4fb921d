// bench --matrix and --contend end to end on the go-startup-cache fixture:
// bad input is one line and exit 2 before anything runs; a real matrix has
// GC figures where GOGC allows them and none where it is off, the v1 attach
// cost only where v1 cgroups are joined; the heat maps render in headless
// Debian Chromium (dumped DOM sizes, as report_test does). Chromium runs in
// its own process group, SIGKILLed as a group on every path.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "chromium.h"
#include "test_util.h"

namespace coldstart {
namespace {

TEST(BenchMatrix, BadDimensionOrValueIsOneLineExit2BeforeAnythingRuns) {
  test::TempDir dir;
  std::string marker = dir.path() + "/ran";
  for (const char* bad : {"cpu-maxx=1", "cpu-max=0", "cpu-max=1,1", "containment=v3", "env:1A=x", "cpu-weight=0",
                          "cpu-weight=10001", "memory-max=lots", "cpu-max", "env:GOGC="}) {
    auto r = test::run_shell(test::coldstart_binary() + " bench --matrix '" + bad + "' '/usr/bin/touch " + marker + "'");
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_TRUE(r.err.starts_with("coldstart: error: bad --matrix")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  auto two = test::run_shell(test::coldstart_binary() + " bench --matrix cpu-max=1 /bin/true /bin/true");
  EXPECT_EQ(two.exit_code, 2) << two.err;
  EXPECT_FALSE(std::filesystem::exists(marker));
}

using test::Chromium;


TEST(BenchMatrix, CellsHaveGcFiguresAttachCostsAndAHeatMapThatRenders) {
  test::TempDir dir;
  std::string json_path = dir.path() + "/m.json", md = dir.path() + "/m.md", html = dir.path() + "/r.html";
  auto r = test::run_shell(test::coldstart_binary() +
                           " bench --ready notify --runs 3 --warmup 0 --contend 1 --matrix env:GOGC=100,off"
                           " --matrix containment=v2+cpu,v2+cpu+memory --export-json " + json_path +
                           " --export-markdown " + md + " '" + test::fixture("go-startup-cache") + " -entries 100000'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("STW p95"), std::string::npos) << r.out;
  nlohmann::json j = nlohmann::json::parse(test::read_text(json_path));
  const auto& cells = j["matrix"]["cells"];
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(j["results"].size(), 4u);
  for (const auto& c : cells) {
    EXPECT_EQ(c["time_to_ready"]["count"], 3);
    bool gc_on = c["coords"]["env:GOGC"] == "100";
    if (gc_on) EXPECT_GE(c["gc_cycles_mean"].get<double>(), 1) << c["label"];
    else EXPECT_EQ(c["gc_cycles_mean"].get<double>(), 0) << c["label"];
    EXPECT_EQ(c["stw"]["count"].get<int>() > 0, gc_on);
    EXPECT_GT(c["attach"]["mean"].get<double>(), 0) << c["label"];  // v1 cgroups joined inside the window
    const auto& ci = c["time_to_ready"]["median_ci"];
    EXPECT_LE(ci[0].get<double>(), c["time_to_ready"]["median"].get<double>());
    EXPECT_GE(ci[1].get<double>(), c["time_to_ready"]["median"].get<double>());
  }
  EXPECT_NE(test::read_text(md).find("| 100 | v2+cpu |"), std::string::npos);

  auto rep = test::run_shell(test::coldstart_binary() + " report " + json_path + " -o " + html);
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  if (::access("/usr/bin/chromium", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/chromium";
  std::string dom_path = dir.path() + "/dom.html";
  {
    Chromium c;
    ASSERT_TRUE(c.run({"--dump-dom"}, "file://" + html, dom_path, dir.path() + "/profile", 90));
  }
  std::string dom = test::read_text(dom_path);
  for (const char* id : {"matrix-0-ready", "matrix-0-stw"}) {
    EXPECT_GT(test::chart_size(dom, id, "data-width"), 100) << id;
    EXPECT_GT(test::chart_size(dom, id, "data-height"), 50) << id;
  }
  EXPECT_NE(dom.find("heatmap-cell"), std::string::npos);
}

}  // namespace
}  // namespace coldstart
