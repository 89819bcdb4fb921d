// The ptrace backend on the same fixtures: same phases as the bpf backend,
// within loose margins, and the tracee is never left stopped or traced.
#include <gtest/gtest.h>

#include <fstream>

#include "trace/phases.h"
#include "trace_test_util.h"

namespace coldstart::trace {
namespace {

using test::fixture;
using test::trace_fixture;
using test::cause_s;
using test::phase_list;
using test::trace_to_exit;
using test::TempDir;

// Bytes read in app-init: the fixture's reads of the file (the loader's of
// libc are in the loader phase).
uint64_t bytes_read(const TraceSummary& s) {
  uint64_t n = 0;
  for (const auto& p : s.phases)
    if (p.phase == Phase::kAppInit) n += p.bytes_read;
  return n;
}

// The summary's seccomp filter leaves reads alone (their stops were half the
// cost of a read-heavy start); --detail full stops on them and counts their
// bytes. The file is opened, and listed, at both levels.
TEST(PtraceTracer, FileReadsAreStoppedOnlyWithFullDetail) {
  TempDir dir;
  std::string path = dir.path() + "/data";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(1 << 20, 'x');
  }
  for (Detail detail : {Detail::kSummary, Detail::kFull}) {
    auto tracer = make_ptrace_tracer(detail);
    ExitStatus st;
    TraceLog log = trace_to_exit(*tracer, {trace_fixture("read_file"), path}, {}, &st);
    TraceSummary s = summarize(log);
    EXPECT_TRUE(st.success()) << st.describe();
    bool listed = false;
    for (const auto& p : s.phases)
      for (const auto& f : p.files) listed = listed || f.path == path;
    EXPECT_TRUE(listed);
    bool noted = false;
    for (const auto& n : log.notes) noted = noted || n.find("reads are not stopped") != std::string::npos;
    if (detail == Detail::kFull) {
      EXPECT_EQ(bytes_read(s), 1u << 20);
      EXPECT_FALSE(noted);
    } else {
      EXPECT_EQ(bytes_read(s), 0u);
      EXPECT_TRUE(noted);
    }
  }
}

TEST(PtraceTracer, SleepInMainIsSleepingInAppInit) {
  auto tracer = make_ptrace_tracer();
  ExitStatus st;
  TraceLog log = trace_to_exit(*tracer, {trace_fixture("sleep_main")}, {}, &st);
  EXPECT_TRUE(st.success()) << st.describe();
  TraceSummary s = summarize(log);
  ASSERT_EQ(phase_list(s), (std::vector<Phase>{Phase::kSpawn, Phase::kLoader, Phase::kRuntimeInit, Phase::kAppInit}));
  EXPECT_GE(cause_s(s.phases[3], WaitCause::kSleep), 0.028);
  EXPECT_LE(cause_s(s.phases[3], WaitCause::kSleep), 0.200);
  bool libc = false;
  for (const auto& f : s.phases[1].files) libc = libc || f.path.find("libc.so.6") != std::string::npos;
  EXPECT_TRUE(libc);
  EXPECT_GT(s.phases[3].on_cpu_s + s.phases[2].on_cpu_s + s.phases[1].on_cpu_s, 0.0);
}

TEST(PtraceTracer, BpfAndPtraceAgreeOnPhases) {
  auto bpf = make_bpf_tracer();
  TraceSummary a = summarize(trace_to_exit(*bpf, {trace_fixture("sleep_main")}));
  auto pt = make_ptrace_tracer();
  TraceSummary b = summarize(trace_to_exit(*pt, {trace_fixture("sleep_main")}));
  ASSERT_EQ(phase_list(a), phase_list(b));
  // app-init is dominated by the 30 ms sleep under both backends; the margins
  // are wide because tests run two at a time on a busy 2-core machine.
  for (const TraceSummary* s : {&a, &b}) {
    EXPECT_GE(s->phases[3].wall_s, 0.028);
    EXPECT_LE(s->phases[3].wall_s, 0.250);
  }
  EXPECT_NEAR(a.phases[3].wall_s, b.phases[3].wall_s, 0.100);
}

TEST(PtraceTracer, GoServiceWithThreadsRunsToMain) {
  auto tracer = make_ptrace_tracer();
  ExitStatus st;
  TraceLog log = trace_to_exit(*tracer, {fixture("go-user-service-pie")}, {"ADDR=256.0.0.1:1"}, &st);
  EXPECT_EQ(st.code, 1);  // it ran main.main and failed to listen, as asked
  TraceSummary s = summarize(log);
  ASSERT_EQ(phase_list(s), (std::vector<Phase>{Phase::kSpawn, Phase::kLoader, Phase::kRuntimeInit, Phase::kAppInit}));
  EXPECT_GT(s.phases[2].threads_created, 0u);
}

}  // namespace
}  // namespace coldstart::trace
