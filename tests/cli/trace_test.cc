// End-to-end: `coldstart trace` on real fixtures through the real launcher.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "test_util.h"

namespace coldstart::test {
namespace {

using nlohmann::json;

std::string trace_fixture(const std::string& name) {
  return std::string(COLDSTART_BINARY).substr(0, std::string(COLDSTART_BINARY).rfind("/src/")) +
         "/tests/trace/fixtures/" + name;
}

CommandResult trace(const std::string& args) { return run_shell(coldstart_binary() + " trace " + args); }

std::vector<std::string> phase_names(const json& j) {
  std::vector<std::string> names;
  for (const auto& p : j["phases"]) names.push_back(p["name"].get<std::string>());
  return names;
}

void expect_phases_sum_to_total(const json& j) {
  double sum = 0;
  for (const auto& p : j["phases"]) sum += p["wall_s"].get<double>();
  EXPECT_NEAR(sum, j["total_s"].get<double>(), 1e-6);
}

TEST(CliTrace, GoCgoServiceToNotifyJson) {
  for (std::string backend : {"bpf", "ptrace"}) {
    CommandResult r = trace("--backend " + backend + " --ready notify --env ADDR=127.0.0.1:0 --json -- " +
                            fixture("go-user-service-cgo"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out);
    EXPECT_EQ(j["backend"], backend);
    EXPECT_TRUE(j["ready"].get<bool>());
    EXPECT_EQ(j["main_symbol"], "main.main");
    EXPECT_EQ(phase_names(j), (std::vector<std::string>{"spawn", "loader", "runtime-init", "app-init"}));
    expect_phases_sum_to_total(j);
    bool libc = false;
    for (const auto& f : j["phases"][1]["files"]) libc = libc || f["path"].get<std::string>().find("libc.so.6") != std::string::npos;
    EXPECT_TRUE(libc) << backend;
  }
}

double off_cpu_total(const json& j, const std::string& cause) {
  double sum = 0;
  for (const auto& p : j["phases"]) sum += p["off_cpu_s"].value(cause, 0.0);
  return sum;
}

// A thread still blocked when ready comes has written no off-CPU interval yet
// (the bpf program writes one when the thread is back on a CPU): the tracer
// reads it from the thread's state at the end, so it is sleeping, not on-CPU.
// Here both threads sleep 0.2 s before ready: 0.4 s asleep in all (0.2 s
// without the open interval, which then showed as 0.2 s more on-CPU).
TEST(CliTrace, ThreadBlockedAtReadyIsOffCpu) {
  TempDir dir;
  std::string script = write_file(dir.path() + "/blocked.py",
                                  "import os, socket, threading, time\n"
                                  "threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n"
                                  "time.sleep(0.2)\n"
                                  "a = os.environ['NOTIFY_SOCKET']\n"
                                  "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
                                  "s.sendto(b'READY=1', '\\0' + a[1:] if a[0] == '@' else a)\n"
                                  "time.sleep(5)\n");
  CommandResult r = trace("--backend bpf --ready notify --json -- /usr/bin/python3 " + script);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_GT(off_cpu_total(j, "sleeping"), 0.35) << r.out;
  double on_cpu = 0;
  for (const auto& p : j["phases"]) on_cpu += p["on_cpu_s"].get<double>();
  EXPECT_LT(on_cpu, 0.15) << r.out;
}

// Under a 2% CPU quota the Go runtime's start is throttled for tens of ms;
// without one, nothing is. The bpf backend tells it from a run-queue wait.
TEST(CliTrace, CpuQuotaShowsAsThrottledTime) {
  CommandResult limited = trace("--backend bpf --cpu-max 1ms/50ms --ready notify --env ADDR=127.0.0.1:0 --json -- " +
                                fixture("go-user-service-static"));
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  EXPECT_NE(limited.err.find("set GOMAXPROCS=1"), std::string::npos) << limited.err;
  EXPECT_GT(off_cpu_total(json::parse(limited.out), "throttled"), 0.005) << limited.out;
  CommandResult free = trace("--backend bpf --ready notify --env ADDR=127.0.0.1:0 --json -- " +
                             fixture("go-user-service-static"));
  ASSERT_EQ(free.exit_code, 0) << free.err;
  EXPECT_EQ(off_cpu_total(json::parse(free.out), "throttled"), 0.0) << free.out;
}

TEST(CliTrace, ChromeTraceIsValidWithOneTrackPerThread) {
  TempDir dir;
  std::string out = dir.path() + "/trace.json";
  CommandResult r = trace("--ready notify --env ADDR=127.0.0.1:0 --json --chrome-trace " + out + " -- " +
                          fixture("go-user-service-static"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json summary = json::parse(r.out);
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  json ct = json::parse(text.str());  // throws (fails the test) on invalid JSON
  ASSERT_TRUE(ct["traceEvents"].is_array());
  std::set<int> named_tracks;
  std::vector<std::pair<double, double>> phases;
  std::map<int, std::vector<std::pair<double, double>>> slices;
  for (const auto& e : ct["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid") && e.contains("tid") && e.contains("name"));
    if (e["ph"] == "M" && e["name"] == "thread_name") named_tracks.insert(e["tid"].get<int>());
    if (e["ph"] != "X") continue;
    double ts = e["ts"].get<double>(), dur = e["dur"].get<double>();
    ASSERT_GE(dur, 0);
    if (e["cat"] == "phase") phases.push_back({ts, ts + dur});
    else slices[e["tid"].get<int>()].push_back({ts, ts + dur});
  }
  // One track per thread of the tree (plus the phases track, tid 0).
  std::set<int> threads{0};
  for (const auto& t : summary["threads"]) threads.insert(t["tid"].get<int>());
  EXPECT_EQ(named_tracks, threads);
  EXPECT_GT(threads.size(), 2u);  // the Go runtime's threads
  // Phases tile the window in order; every other slice lies inside it and
  // slices of one track nest (contain each other or do not overlap).
  ASSERT_EQ(phases.size(), 4u);
  for (size_t i = 1; i < phases.size(); ++i) EXPECT_NEAR(phases[i - 1].second, phases[i].first, 0.01);
  for (auto& [tid, v] : slices) {
    for (size_t i = 0; i < v.size(); ++i) {
      EXPECT_GE(v[i].first, phases.front().first - 0.01);
      EXPECT_LE(v[i].second, phases.back().second + 0.01);
      for (size_t k = i + 1; k < v.size(); ++k) {
        auto [a0, a1] = v[i];
        auto [b0, b1] = v[k];
        bool disjoint = a1 <= b0 + 0.01 || b1 <= a0 + 0.01;
        bool nested = (a0 <= b0 + 0.01 && b1 <= a1 + 0.01) || (b0 <= a0 + 0.01 && a1 <= b1 + 0.01);
        EXPECT_TRUE(disjoint || nested) << "tid " << tid << " [" << a0 << "," << a1 << ") [" << b0 << "," << b1 << ")";
      }
    }
  }
}

TEST(CliTrace, GoInittraceReportsPackageInits) {
  CommandResult r = trace("--go-inittrace --ready notify --env ADDR=127.0.0.1:0 --json -- " +
                          fixture("go-user-service-static"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json go = json::parse(r.out)["go"];
  bool http = false;
  for (const auto& i : go["package_inits"]) http = http || i["package"] == "net/http";
  EXPECT_TRUE(http) << go.dump();
  EXPECT_GT(go["total_init_s"].get<double>(), 0.0);
  // Not a Go binary: a clear error.
  CommandResult e = trace("--go-inittrace -- " + trace_fixture("sleep_main"));
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.err.find("not a Go binary"), std::string::npos) << e.err;
}

TEST(CliTrace, StrippedStaticBinarySaysSoAndMergesPhases) {
  CommandResult r = trace("-- " + trace_fixture("sleep_main-static-stripped"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("main not found"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("static binary without a symbol for main"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\ninit "), std::string::npos) << r.out;
}

TEST(CliTrace, DetailIsSummaryOrFull) {
  CommandResult bad = trace("--detail most -- " + trace_fixture("sleep_main"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("coldstart: error: bad --detail 'most': want summary or full"), std::string::npos) << bad.err;
  CommandResult full = trace("--detail full --json -- " + trace_fixture("sleep_main"));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  bool nanosleep = false;
  json j = json::parse(full.out);
  for (const auto& s : j["events"]["syscalls"]) nanosleep = nanosleep || s["name"] == "clock_nanosleep" || s["name"] == "nanosleep";
  EXPECT_TRUE(nanosleep);
}

TEST(CliTrace, StrippedDynamicBinaryNamesTheLibcArgument) {
  CommandResult r = trace("-- " + trace_fixture("sleep_main-stripped"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("main from the first argument of __libc_start_main"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\napp-init "), std::string::npos) << r.out;
}

TEST(CliTrace, ExitBeforeReadyStillReportsPhases) {
  CommandResult r = trace("--ready notify --json -- " + trace_fixture("sleep_main"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  json j = json::parse(r.out);
  EXPECT_FALSE(j["ready"].get<bool>());
  EXPECT_NE(j["outcome"].get<std::string>().find("before ready"), std::string::npos);
  EXPECT_EQ(phase_names(j), (std::vector<std::string>{"spawn", "loader", "runtime-init", "app-init"}));
}

TEST(CliTrace, AutoFallsBackToPtraceWithoutBpfPrivilege) {
  // Root without capabilities: BPF is refused, ptrace of our own child is not.
  CommandResult r = run_shell("setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-all " + coldstart_binary() +
                              " trace --json -- " + trace_fixture("sleep_main"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("bpf backend unavailable"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(json::parse(r.out)["backend"], "ptrace");
  // Asking for bpf explicitly is an error, in one line.
  CommandResult e = run_shell("setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-all " + coldstart_binary() +
                              " trace --backend bpf -- " + trace_fixture("sleep_main"));
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_EQ(e.err.rfind("coldstart: error: bpf backend unavailable", 0), 0u) << e.err;
}

TEST(CliTrace, BadInputIsOneLineExitTwo) {
  for (std::string args : std::vector<std::string>{"-- /nonexistent/prog", "--backend dtrace -- /bin/true", "--ready bogus -- /bin/true",
                           "-- " + source_path("README.md")}) {
    CommandResult r = trace(args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(r.err.rfind("coldstart: error: ", 0), 0u) << args << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

}  // namespace
}  // namespace coldstart::test
