// The BPF backend on real fixtures: real programs loaded into this kernel,
// real processes, phases and waits checked against what each fixture does.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include "trace/phases.h"
#include "trace_test_util.h"

namespace coldstart::trace {
namespace {

using test::fixture;
using test::trace_fixture;
using test::trace_to_exit;

std::vector<Phase> phase_list(const TraceSummary& s) {
  std::vector<Phase> out;
  for (const auto& p : s.phases) out.push_back(p.phase);
  return out;
}

double cause_s(const PhaseStats& p, WaitCause c) { return p.off_cpu_s[static_cast<size_t>(c)]; }

const PhaseStats* find(const TraceSummary& s, Phase phase) {
  for (const auto& p : s.phases)
    if (p.phase == phase) return &p;
  return nullptr;
}

void expect_contiguous(const TraceSummary& s) {
  ASSERT_FALSE(s.phases.empty());
  double sum = 0;
  for (size_t i = 0; i < s.phases.size(); ++i) {
    sum += s.phases[i].wall_s;
    EXPECT_LE(s.phases[i].start_ns, s.phases[i].end_ns);
    if (i > 0) {
      EXPECT_EQ(s.phases[i - 1].end_ns, s.phases[i].start_ns);
    }
  }
  EXPECT_NEAR(sum, s.total_s, 1e-9);
}

bool opened(const PhaseStats& p, const std::string& needle) {
  return std::any_of(p.files.begin(), p.files.end(),
                     [&](const FileOpen& f) { return f.ok && f.path.find(needle) != std::string::npos; });
}

TEST(BpfTracer, SleepInMainIsSleepingInAppInit) {
  auto tracer = make_bpf_tracer();
  TraceLog log = trace_to_exit(*tracer, {trace_fixture("sleep_main")});
  TraceSummary s = summarize(log);
  EXPECT_EQ(phase_list(s), (std::vector<Phase>{Phase::kSpawn, Phase::kLoader, Phase::kRuntimeInit, Phase::kAppInit}));
  expect_contiguous(s);
  EXPECT_EQ(log.main_symbol, "main");
  const PhaseStats* app = find(s, Phase::kAppInit);
  ASSERT_NE(app, nullptr);
  EXPECT_GE(cause_s(*app, WaitCause::kSleep), 0.028);
  EXPECT_LE(cause_s(*app, WaitCause::kSleep), 0.200);
  EXPECT_EQ(app->syscalls.count("nanosleep") + app->syscalls.count("clock_nanosleep"), 1u);
  // The dynamic loader opened libc in the loader phase.
  const PhaseStats* loader = find(s, Phase::kLoader);
  ASSERT_NE(loader, nullptr);
  EXPECT_TRUE(opened(*loader, "libc.so.6"));
  EXPECT_GT(loader->minor_faults, 0u);
}

TEST(BpfTracer, StrippedBinaryMergesInitPhases) {
  auto tracer = make_bpf_tracer();
  TraceLog log = trace_to_exit(*tracer, {trace_fixture("sleep_main-stripped")});
  TraceSummary s = summarize(log);
  EXPECT_FALSE(s.main_found);
  EXPECT_EQ(phase_list(s), (std::vector<Phase>{Phase::kSpawn, Phase::kLoader, Phase::kInit}));
  expect_contiguous(s);
  EXPECT_GE(cause_s(*find(s, Phase::kInit), WaitCause::kSleep), 0.028);
}

TEST(BpfTracer, StaticBinaryHasNearZeroLoader) {
  auto tracer = make_bpf_tracer();
  TraceLog log = trace_to_exit(*tracer, {fixture("noop-static")});
  TraceSummary s = summarize(log);
  expect_contiguous(s);
  const PhaseStats* loader = find(s, Phase::kLoader);
  ASSERT_NE(loader, nullptr);
  EXPECT_LT(loader->wall_s, 0.0005);
  EXPECT_TRUE(loader->files.empty());
}

TEST(BpfTracer, GoCgoLoaderOpensLibc) {
  auto tracer = make_bpf_tracer();
  // An address it cannot listen on makes the service exit right after
  // main.main started, which is the ready instant of this test.
  TraceLog log = trace_to_exit(*tracer, {fixture("go-user-service-cgo")}, {"ADDR=256.0.0.1:1"});
  TraceSummary s = summarize(log);
  EXPECT_EQ(log.main_symbol, "main.main");
  EXPECT_EQ(phase_list(s), (std::vector<Phase>{Phase::kSpawn, Phase::kLoader, Phase::kRuntimeInit, Phase::kAppInit}));
  expect_contiguous(s);
  EXPECT_TRUE(opened(*find(s, Phase::kLoader), "libc.so.6"));
  // The Go runtime starts its threads before main.main.
  EXPECT_GT(find(s, Phase::kRuntimeInit)->threads_created, 0u);
  EXPECT_GT(find(s, Phase::kRuntimeInit)->on_cpu_s, 0.0);
}

}  // namespace
}  // namespace coldstart::trace
