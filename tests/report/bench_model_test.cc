// Reading bench JSON (hyperfine's schema and coldstart's superset) into BenchSet.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "report/bench_model.h"

namespace coldstart::report {
namespace {

using nlohmann::json;

TEST(BenchModel, ReadsHyperfineExport) {
  // The shape hyperfine 1.15 writes with --export-json.
  json doc = json::parse(R"({"results":[{"command":"sleep 0.01","mean":0.0112,"stddev":0.0003,
    "median":0.0111,"user":0.0008,"system":0.0003,"min":0.0108,"max":0.0121,
    "times":[0.0108,0.0111,0.0121],"exit_codes":[0,0,0]}]})");
  BenchSet set = bench_from_json(doc, "h.json");
  ASSERT_EQ(set.commands.size(), 1u);
  EXPECT_EQ(set.commands[0].command, "sleep 0.01");
  EXPECT_EQ(set.commands[0].mode, "");
  EXPECT_EQ(set.commands[0].times.size(), 3u);
  EXPECT_EQ(set.commands[0].exit_codes, (std::vector<int>{0, 0, 0}));
}

TEST(BenchModel, ReadsColdstartFieldsAndComparison) {
  json doc = json::parse(R"({"results":[
      {"command":"a","mode":"cold","ready":"notify","times":[0.002,0.003]},
      {"command":"b","mode":"warm","ready":"notify","times":[0.001]}],
    "comparisons":[{"baseline":"a","candidate":"b","ratio":0.5,"ci":[0.4,0.6],"p_value":0.01}]})");
  BenchSet set = bench_from_json(doc, "c.json");
  ASSERT_EQ(set.commands.size(), 2u);
  EXPECT_EQ(set.commands[0].mode, "cold");
  EXPECT_EQ(set.commands[1].ready, "notify");
  ASSERT_EQ(set.comparisons.size(), 1u);
  EXPECT_DOUBLE_EQ(set.comparisons[0].ratio, 0.5);
  EXPECT_DOUBLE_EQ(*set.comparisons[0].ci_high, 0.6);
  EXPECT_DOUBLE_EQ(*set.comparisons[0].p_value, 0.01);
}

TEST(BenchModel, EmptyBenchIsValid) {
  BenchSet set = bench_from_json(json::parse(R"({"results":[]})"), "e.json");
  EXPECT_TRUE(set.commands.empty());
}

TEST(BenchModel, BadFieldsNameTheFileAndThePath) {
  auto message = [](const char* text) {
    try {
      bench_from_json(json::parse(text), "bad.json");
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(R"({"results":[{"command":"a","times":[0.1,"x"]}]})"),
            "bad.json: results[0].times[1] is not a number");
  EXPECT_EQ(message(R"({"results":[{"times":[0.1]}]})"), "bad.json: results[0] has no command");
  EXPECT_EQ(message(R"({"results":[{"command":"a","times":[-1]}]})"),
            "bad.json: results[0].times[0] is not a duration in seconds");
  EXPECT_EQ(message(R"({"traceEvents":[]})"), "bad.json: not a bench JSON (no \"results\" array)");
}

TEST(BenchModel, SummaryUsesInterpolatedQuantiles) {
  std::vector<double> t = {5, 1, 4, 2, 3};
  Summary s = summarize(t);
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 5);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_DOUBLE_EQ(s.p95, 4.8);  // numpy.percentile([1..5], 95)
  EXPECT_NEAR(s.stddev, 1.5811, 1e-4);
  EXPECT_EQ(summarize({}).count, 0u);
}

TEST(BenchModel, ServiceNameIsTheProgramsBaseName) {
  EXPECT_EQ(service_name("/x/build/go-user-service-static --port 1"), "go-user-service-static");
  EXPECT_EQ(service_name("'/a b/svc' x"), "svc");
  EXPECT_EQ(service_name("redis-server"), "redis-server");
}

}  // namespace
}  // namespace coldstart::report
