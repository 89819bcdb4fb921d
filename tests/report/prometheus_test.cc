// The node_exporter textfile export: format, escaping, atomic replacement.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "core/file.h"
#include "report/prometheus.h"
#include "test_util.h"

namespace coldstart::report {
namespace {

TEST(Prometheus, SummaryWithQuantilesSumAndCount) {
  std::string text = prometheus_text({{"user-service", "cold", {0.004, 0.001, 0.002, 0.003}}}, "node-1", 1700000000);
  EXPECT_NE(text.find("# TYPE coldstart_time_to_ready_seconds summary\n"), std::string::npos) << text;
  EXPECT_NE(text.find("coldstart_time_to_ready_seconds{service=\"user-service\",host=\"node-1\",mode=\"cold\","
                      "quantile=\"0.5\"} 0.0025\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("quantile=\"0.99\"} 0.00397"), std::string::npos) << text;
  EXPECT_NE(text.find("coldstart_time_to_ready_seconds_sum{service=\"user-service\",host=\"node-1\",mode=\"cold\"} "
                      "0.01"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("coldstart_time_to_ready_seconds_count{service=\"user-service\",host=\"node-1\",mode=\"cold\"} 4\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("coldstart_time_to_ready_last_export_timestamp_seconds{host=\"node-1\"} 1700000000.000\n"),
            std::string::npos)
      << text;
}

TEST(Prometheus, EscapesLabelValuesAndSkipsEmptySeries) {
  std::string text = prometheus_text({{"a\"b\\c\nd", "warm", {0.1}}, {"empty", "warm", {}}}, "h", 0);
  EXPECT_NE(text.find(R"(service="a\"b\\c\nd")"), std::string::npos) << text;
  EXPECT_EQ(text.find("empty"), std::string::npos) << text;
}

TEST(Prometheus, ExportReplacesTheFileAtomicallyAndLeavesNoTemp) {
  test::TempDir dir;
  std::string path = dir.path() + "/coldstart.prom";
  BenchSet set;
  set.commands.push_back({"/bin/svc --x", "cold", "notify", {0.01, 0.02}, {0, 0}});
  export_prometheus(path, set);
  set.commands[0].times = {0.03};
  export_prometheus(path, set);
  auto text = read_text_file(path);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("service=\"svc\""), std::string::npos);
  EXPECT_NE(text->find("_count{service=\"svc\",host="), std::string::npos);
  EXPECT_NE(text->find("} 1\n"), std::string::npos) << *text;  // the second export's single run
  size_t files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
}

TEST(Prometheus, UnwritableDirectoryIsAUserError) {
  BenchSet set;
  EXPECT_THROW(export_prometheus("/nonexistent-dir/x.prom", set), UserError);
}

}  // namespace
}  // namespace coldstart::report
