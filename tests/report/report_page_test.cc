// Report inputs (classification, errors naming the file) and the page: every
// figure present, a one-thread and a thousand-thread trace, empty bench,
// escaping, no external resource.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "report/html.h"
#include "report/report_page.h"
#include "report/trace_charts.h"
#include "test_util.h"

namespace coldstart::report {
namespace {

using nlohmann::json;

std::string write(const test::TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = dir.path() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string load_error(const std::string& path) {
  ReportInputs in;
  try {
    load_input_file(path, in);
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

json trace_doc(int threads) {
  json phases = json::array();
  const char* names[] = {"spawn", "loader", "runtime-init", "app-init"};
  for (int i = 0; i < 4; ++i)
    phases.push_back({{"name", names[i]}, {"start_s", i * 0.001}, {"end_s", (i + 1) * 0.001}, {"on_cpu_s", 0.0005},
                      {"off_cpu_s", {{"disk", 0.0003}, {"network", 0.0}}},
                      {"syscalls", {{"openat", 3 + i}, {"mmap", 10}}},
                      {"files", {{{"path", "/lib/x86_64-linux-gnu/libc.so.6"}, {"start_s", 0.001}, {"end_s", 0.0012}},
                                 {{"path", "/etc/ld.so.cache"}, {"start_s", 0.001}, {"end_s", 0.0011}}}}});
  json th = json::array();
  for (int t = 0; t < threads; ++t)
    th.push_back({{"tid", 1000 + t}, {"name", "thread " + std::to_string(1000 + t)}, {"start_s", t ? 0.002 : 0.0},
                  {"end_s", 0.004},
                  {"waits", {{{"start_s", 0.0025}, {"end_s", 0.0025 + 1e-6 * t}, {"cause", "disk"}, {"syscall", "read"}}}}});
  return {{"program", "/x/svc<&>"}, {"backend", "ptrace"}, {"ready", true}, {"outcome", "ready"},
          {"total_s", 0.004}, {"phases", phases}, {"threads", th}, {"top_waits", json::array()}};
}

TEST(ReportInputs, ErrorsNameTheFile) {
  test::TempDir dir;
  EXPECT_EQ(load_error(write(dir, "bad.json", "{not json")), dir.path() + "/bad.json: not valid JSON");
  std::string other = write(dir, "other.json", R"({"name":"package.json","version":"1"})");
  EXPECT_EQ(load_error(other), other + ": not a coldstart bench, trace or run JSON (expected \"results\", \"phases\", "
                                       "\"traceEvents\" or \"starts\")");
  EXPECT_EQ(load_error(write(dir, "array.json", "[1,2]")).find(dir.path() + "/array.json: not a coldstart"), 0u);
  EXPECT_EQ(load_error(dir.path() + "/missing.json").find("open " + dir.path() + "/missing.json: "), 0u);
  std::string bad_trace = write(dir, "t.json", R"({"phases":[{"name":"x","start_s":"soon"}]})");
  EXPECT_EQ(load_error(bad_trace), bad_trace + ": phases[0].start_s is not a number");
}

TEST(ReportInputs, ClassifiesBenchTraceRunAndChromeTrace) {
  test::TempDir dir;
  ReportInputs in;
  load_input_file(write(dir, "b.json", R"({"results":[{"command":"a","times":[0.001]}]})"), in);
  load_input_file(write(dir, "t.json", trace_doc(2).dump()), in);
  load_input_file(write(dir, "c.json", R"({"traceEvents":[
      {"ph":"M","name":"thread_name","pid":1,"tid":7,"args":{"name":"main"}},
      {"ph":"X","cat":"phase","name":"loader","ts":1000,"dur":500,"pid":1,"tid":7},
      {"ph":"X","cat":"disk","name":"read","ts":1100,"dur":200,"pid":1,"tid":7}]})"),
                  in);
  load_input_file(write(dir, "r.json", R"({"program":"svc","timeline":{"spawn_s":0,"ready_s":0.002,"boost_end_s":0.0025}})"),
                  in);
  load_input_file(write(dir, "run.json", R"({"command":"run","exit_code":0,"starts":[
      {"pid":1,"spawn":0.0004,"ready":0.0045,"time_to_ready":0.0041,"boost_end":null,"end":3.02}]})"),
                  in);
  ASSERT_EQ(in.benches.size(), 1u);
  ASSERT_EQ(in.traces.size(), 2u);
  ASSERT_EQ(in.runs.size(), 2u);
  ASSERT_EQ(in.runs[1].events.size(), 2u);  // spawn and ready; no boost, the end left out
  EXPECT_EQ(in.runs[1].events[1], (std::pair<std::string, double>{"ready", 0.0045}));
  const TraceView& chrome = in.traces[1];
  ASSERT_EQ(chrome.phases.size(), 1u);
  EXPECT_DOUBLE_EQ(chrome.phases[0].end, 0.0005);
  ASSERT_EQ(chrome.threads.size(), 1u);
  EXPECT_EQ(chrome.threads[0].name, "main");
  EXPECT_EQ(chrome.threads[0].waits[0].cause, "disk");
  const TraceView& native = in.traces[0];
  EXPECT_EQ(native.libraries.size(), 1u);  // libc.so.6, but not ld.so.cache
  EXPECT_EQ(native.files.size(), 1u);
  EXPECT_EQ(native.syscalls.front().name, "mmap");
  ASSERT_EQ(in.runs[0].events.size(), 3u);
  EXPECT_EQ(in.runs[0].events[2].first, "boost end");
}

TEST(ReportPage, HasEveryFigureAndNothingExternal) {
  test::TempDir dir;
  ReportInputs in;
  load_input_file(write(dir, "b.json", R"({"results":[
      {"command":"/x/a","mode":"cold","times":[0.003,0.0031,0.0029,0.0035,0.0030,0.0032,0.0033,0.0029]},
      {"command":"/x/a","mode":"warm","times":[0.001,0.0011,0.0012,0.0010,0.0011,0.0013,0.0010,0.0011]}]})"),
                  in);
  load_input_file(write(dir, "t.json", trace_doc(3).dump()), in);
  std::string html = render_report(in);
  EXPECT_NE(html.find("id=\"trace-0-waterfall\""), std::string::npos);
  EXPECT_NE(html.find("id=\"bench-0-boxplot\""), std::string::npos);
  EXPECT_NE(html.find("id=\"bench-0-comparison\""), std::string::npos);
  EXPECT_EQ(std::count(html.begin(), html.end(), '\n') > 10, true);
  std::regex hist("class=\"chart histogram\"");
  EXPECT_EQ(std::distance(std::sregex_iterator(html.begin(), html.end(), hist), std::sregex_iterator()), 2);
  EXPECT_NE(html.find("faster"), std::string::npos);  // warm vs cold, in words
  EXPECT_NE(html.find("/x/svc&lt;&amp;&gt;"), std::string::npos);  // escaped program name
  EXPECT_EQ(html.find("/x/svc<&>"), std::string::npos);
  // One inline script (chart sizes into data- attributes for DOM checks), never an external one.
  size_t script = html.find("<script>");
  EXPECT_NE(script, std::string::npos);
  EXPECT_EQ(html.find("<script", script + 1), std::string::npos);
  EXPECT_EQ(html.find("<script "), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST(ReportPage, EmptyBenchSaysSo) {
  ReportInputs in;
  in.benches.push_back({"empty.json", {}, {}});
  std::string html = render_report(in);
  EXPECT_NE(html.find("no commands"), std::string::npos);
}

TEST(ReportPage, OneThreadTraceHasOneLane) {
  TraceView v = trace_from_json(trace_doc(1), "one.json");
  std::string html = trace_html(v, 0);
  EXPECT_NE(html.find("thread 1000"), std::string::npos);
  EXPECT_EQ(html.find("more threads"), std::string::npos);
}

TEST(ReportPage, ThousandThreadsAreCappedToReadableLanes) {
  TraceView v = trace_from_json(trace_doc(1000), "many.json");
  ASSERT_EQ(v.threads.size(), 1000u);
  std::string html = trace_html(v, 0);
  EXPECT_NE(html.find("+" + std::to_string(1000 - (kMaxLanes - 1)) + " more threads"), std::string::npos);
  // The viewBox height stays within a screen or two.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, std::regex("id=\"trace-0-waterfall\"[^>]*viewBox=\"0 0 960 ([0-9.]+)\"")));
  EXPECT_LT(std::stod(m[1]), 900);
  // The root and the threads that waited longest keep their lanes.
  EXPECT_NE(html.find("thread 1000 1000<"), std::string::npos);
  EXPECT_NE(html.find("thread 1999 1999<"), std::string::npos);
}

TEST(Html, TicksAreRoundAndLabelledInOneUnit) {
  Scale s{0, 0.0024, 0, 100};
  auto t = s.ticks(5);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(time_tick_labels(t).front(), "0");
  EXPECT_EQ(time_tick_labels({0, 0.0005, 0.001}), (std::vector<std::string>{"0", "0.5 ms", "1 ms"}));
  EXPECT_EQ(time_tick_labels({0, 0.0002}), (std::vector<std::string>{"0", "200 µs"}));
  EXPECT_EQ(escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
}

}  // namespace
}  // namespace coldstart::report
