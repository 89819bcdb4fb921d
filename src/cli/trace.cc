// `coldstart trace`: one launch through the shared launcher, watched by a
// tracer backend, explained phase by phase. Steps:
//   1. read the target's phase boundaries (entry point, main) from its ELF
//   2. pick and prepare the backend (auto: bpf, else ptrace with one line why)
//   3. launch paused, let the tracer follow the pid, resume, wait for ready
//   4. finish the trace before stopping the tree (teardown is not traced)
//   5. print the summary / JSON, write the Chrome trace
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "cli/commands.h"
#include "cli/launch_flags.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/file.h"
#include "core/process.h"
#include "core/signals.h"
#include "core/strings.h"
#include "image/prepare.h"
#include "launch/go_env.h"
#include "launch/launcher.h"
#include "report/chrome_trace.h"
#include "trace/go_gc.h"
#include "trace/go_inittrace.h"
#include "trace/phases.h"
#include "trace/trace_json.h"
#include "trace/traced_run.h"
#include "trace/tracer.h"

namespace coldstart::cli {
namespace {

using namespace coldstart::trace;

struct TraceArgs {
  LaunchFlags launch;  // --ready (default exit), --ready-timeout, --env, --cwd, --cpu-max, --memory-*
  std::string backend = "auto";
  std::string chrome_trace;
  bool json = false;
  bool go_inittrace = false;
  std::vector<std::string> command;
  std::string image;  // --image: trace the start inside it (COMMAND optional)
  std::string detail = "summary";
};

std::string ms(double s) { return format_duration(s); }

Detail parse_detail(const std::string& s) {
  if (s == "summary") return Detail::kSummary;
  if (s == "full") return Detail::kFull;
  throw_bad_flag("--detail", s, "want summary or full");
}

void print_summary(const TraceLog& log, const TraceSummary& sum, const GoInitReport* go, const std::string& spec,
                   const GcSummary* gc) {
  std::printf("%s: %s %s (backend %s)\n", log.program.c_str(), sum.reached_ready ? "ready after" : "no ready;",
              sum.reached_ready ? ms(sum.total_s).c_str() : (log.outcome + " after " + ms(sum.total_s)).c_str(),
              log.backend.c_str());
  if (sum.reached_ready) std::printf("ready: %s\n", spec.c_str());
  std::printf("\n%-13s %10s %10s %9s %9s %9s %9s %9s %9s %8s %11s %7s\n", "phase", "wall", "on-CPU", "disk",
              "network", "sleeping", "run-queue", "throttled", "other", "syscalls", "faults", "threads");
  for (const auto& p : sum.phases) {
    uint64_t calls = 0;
    for (const auto& [name, n] : p.syscalls) calls += n;
    auto off = [&](WaitCause c) { return ms(p.off_cpu_s[static_cast<size_t>(c)]); };
    std::printf("%-13s %10s %10s %9s %9s %9s %9s %9s %9s %8s %11s %7s\n", std::string(phase_name(p.phase)).c_str(),
                ms(p.wall_s).c_str(), ms(p.on_cpu_s).c_str(), off(WaitCause::kDisk).c_str(),
                off(WaitCause::kNetwork).c_str(), off(WaitCause::kSleep).c_str(), off(WaitCause::kRunQueue).c_str(),
                off(WaitCause::kThrottled).c_str(), off(WaitCause::kOther).c_str(), format_count(calls).c_str(),
                fmt::format("{}/{}", p.minor_faults, p.major_faults).c_str(),
                format_count(p.threads_created + p.processes_created).c_str());
  }
  std::printf("%-13s %10s\n", "total", ms(sum.total_s).c_str());
  if (gc != nullptr) {
    // The GC row: cycles up to ready, their stop-the-world pauses, their CPU.
    std::printf("%-13s %10s  %zu cycles, STW total %s, max %s%s (%s)\n", "gc", ms(gc->wall_s).c_str(), gc->cycles,
                ms(gc->stw_total_s).c_str(), ms(gc->stw_max_s).c_str(),
                gc->cpu_share ? fmt::format(", GC CPU {:.1f}% of the tree's", *gc->cpu_share * 100).c_str() : "",
                log.gc_cycles.empty() ? "no cycle before ready" : log.gc_cycles[0].source.c_str());
  }
  if (!sum.main_found) std::printf("(main not found: runtime-init and app-init are one phase, \"init\")\n");
  else std::printf("boundaries: entry point from the ELF header, %s from the %s\n", log.main_symbol.c_str(),
                   log.main_source == "libc argument" ? "first argument of __libc_start_main" : log.main_source.c_str());

  std::string summed;
  for (const auto& p : sum.phases)
    if (p.sums_exceed_wall) summed += (summed.empty() ? "" : ", ") + std::string(phase_name(p.phase));
  if (!summed.empty())
    std::printf("(on-CPU and waits are summed over threads: in %s they add up to more than the wall time)\n",
                summed.c_str());
  if (!sum.top_waits.empty()) {
    // The critical thread's waits: each delayed ready by its length.
    std::printf("\ntop waits of tid %d, the thread that %s (in all:", sum.critical_tid,
                sum.critical_why == "the root thread" ? "was started" : sum.critical_why.c_str());
    bool any = false;
    for (size_t c = 0; c < kWaitCauses; ++c)
      if (sum.critical_off_cpu_s[c] > 0) {
        std::printf("%s %s %s", any ? "," : "", std::string(wait_cause_name(static_cast<WaitCause>(c))).c_str(),
                    ms(sum.critical_off_cpu_s[c]).c_str());
        any = true;
      }
    std::printf("):\n");
    for (const auto& w : sum.top_waits)
      std::printf("  %9s  %-9s %-16s tid %-7d %s\n", ms(ns_to_s(w.end_ns - w.start_ns)).c_str(),
                  std::string(wait_cause_name(w.cause)).c_str(), w.syscall.empty() ? "-" : w.syscall.c_str(), w.tid,
                  std::string(phase_name(w.phase)).c_str());
  }
  for (const auto& p : sum.phases) {
    if (p.phase != Phase::kLoader || p.files.empty()) continue;
    std::printf("\nfiles opened by the loader:\n");
    for (const auto& f : p.files)
      std::printf("  +%-10s %9s  %s%s\n", ms(ns_to_s(f.start_ns - log.t0_ns)).c_str(), ms(ns_to_s(f.end_ns - f.start_ns)).c_str(),
                  f.path.c_str(), f.ok ? "" : "  (failed)");
  }
  std::map<std::string, uint64_t> calls;
  for (const auto& p : sum.phases)
    for (const auto& [name, n] : p.syscalls) calls[name] += n;
  std::vector<std::pair<std::string, uint64_t>> top(calls.begin(), calls.end());
  std::sort(top.begin(), top.end(), [](auto& a, auto& b) { return a.second > b.second; });
  if (!top.empty()) {
    std::printf("\nsyscalls:");
    for (size_t i = 0; i < top.size() && i < 8; ++i) std::printf(" %s %s", top[i].first.c_str(), format_count(top[i].second).c_str());
    std::printf("\n");
  }
  if (go != nullptr) {
    std::vector<GoPackageInit> inits = go->inits;
    std::sort(inits.begin(), inits.end(), [](auto& a, auto& b) { return a.clock_s > b.clock_s; });
    std::printf("\nGo package init: %zu packages, %s in init functions, %s GC cycles during start-up\n",
                go->inits.size(), ms(go->total_init_s()).c_str(), format_count(go->gc_cycles).c_str());
    for (size_t i = 0; i < inits.size() && i < 5; ++i)
      std::printf("  %9s  %s\n", ms(inits[i].clock_s).c_str(), inits[i].package.c_str());
  }
  for (const auto& n : log.notes) std::printf("note: %s\n", n.c_str());
}

void print_stderr_tail(const launch::RunRecord& r) {
  std::string tail(trim(r.stderr_tail));
  if (!tail.empty()) std::printf("\nthe target's last stderr lines:\n%s\n", tail.c_str());
}

// Step 5: the launch as Chrome trace tracks: one for the phases, one per thread.
report::ChromeTrace chrome_trace(const TraceLog& log, const TraceSummary& sum) {
  report::ChromeTrace ct;
  ct.pid = log.root_pid;
  ct.process_name = log.program;
  int64_t t0 = log.t0_ns, end = t0 + s_to_ns(sum.total_s);
  auto us = [t0](int64_t ns) { return static_cast<double>(ns - t0) / 1e3; };
  auto slice = [&](pid_t pid, pid_t tid, std::string name, std::string cat, int64_t a, int64_t b, nlohmann::json args) {
    a = std::max(a, t0), b = std::min(b, end);
    if (b < a) return;
    ct.slices.push_back({pid, tid, std::move(name), std::move(cat), us(a), static_cast<double>(b - a) / 1e3, std::move(args)});
  };
  ct.tracks.push_back({log.root_pid, 0, "phases", 0});
  std::set<std::pair<pid_t, pid_t>> threads{{log.root_pid, log.root_pid}};
  for (const auto& t : log.tasks) {
    if (t.kind == TaskEvent::Kind::kThread) threads.insert({t.pid, t.child_tid});
    if (t.kind == TaskEvent::Kind::kProcess) threads.insert({t.child_tid, t.child_tid});
  }
  int order = 1;
  for (auto [pid, tid] : threads)
    ct.tracks.push_back({pid, tid, (pid == tid ? "process " : "thread ") + std::to_string(tid), order++});
  for (const auto& p : sum.phases)
    slice(log.root_pid, 0, std::string(phase_name(p.phase)), "phase", p.start_ns, p.end_ns,
          {{"on_cpu_ms", p.on_cpu_s * 1e3}, {"minor_faults", p.minor_faults}, {"major_faults", p.major_faults}});
  for (const auto& s : log.syscalls) {
    nlohmann::json args = {{"ret", s.ret}};
    if (!s.path.empty()) args["path"] = s.path;
    slice(s.pid, s.tid, syscall_name(s.nr), "syscall", s.start_ns, s.end_ns, std::move(args));
  }
  if (!log.gc_cycles.empty()) {
    // One lane for the Go GC: the cycle, and its two stop-the-world pauses inside it.
    constexpr int kGcLane = 2147483000;
    ct.tracks.push_back({log.root_pid, kGcLane, "Go GC", order++});
    for (const GcCycle& c : log.gc_cycles) {
      nlohmann::json args = {{"source", c.source}};
      if (c.source == "gctrace") args["heap_start_mb"] = c.heap_start_bytes / 1048576.0, args["heap_goal_mb"] = c.heap_goal_bytes / 1048576.0;
      slice(log.root_pid, kGcLane, fmt::format("GC {}", c.number), "gc", c.start_ns, c.end_ns, std::move(args));
      slice(log.root_pid, kGcLane, "STW sweep termination", "gc", c.start_ns, c.sweep_term_end_ns, {});
      slice(log.root_pid, kGcLane, "STW mark termination", "gc", c.mark_term_start_ns, c.end_ns, {});
    }
  }
  for (const auto& o : log.off_cpu) {
    if (o.wake_ns > o.start_ns) slice(o.pid, o.tid, std::string(wait_cause_name(o.cause)), "wait", o.start_ns, o.wake_ns, {});
    if (o.end_ns > o.wake_ns) slice(o.pid, o.tid, "run-queue", "wait", o.wake_ns, o.end_ns, {});
  }
  return ct;
}

int run_trace(const TraceArgs& a) {
  if (a.command.empty() && a.image.empty()) throw UserError("trace: no command given after --");
  // Step 1 (inside an image: its program's file in the layer cache is what the tracer reads).
  std::optional<image::PreparedImage> img;
  if (!a.image.empty()) img = image::prepare_image(a.image, a.command, image::Relayer{}, /*mountable=*/true);
  std::string program = img ? img->tree.host_path(img->tree.resolve(img->run.argv[0]).value_or(img->run.argv[0]))
                            : resolve_program(a.command[0]);
  TraceTarget target = describe_target(program);
  launch::LaunchOptions opts;
  opts.argv = img ? img->run.argv : a.command;
  opts.ready = launch::ReadySpec::parse("exit");
  apply_launch_flags(a.launch, opts);
  if (img) {
    opts.env.insert(opts.env.begin(), img->run.env.begin(), img->run.env.end());
    opts.clear_env = true;
    opts.rootfs = img->rootfs;
  }
  opts.output = launch::OutputMode::kCapture;
  check_output_path(a.chrome_trace, "--chrome-trace");
  if (opts.limits.any()) {
    // As bench does: the start under limits, with GOMAXPROCS/GOMEMLIMIT to match.
    launch::GoRuntimeEnv go = launch::go_runtime_env(program, opts.limits, opts.env);
    opts.env.insert(opts.env.begin(), go.env.begin(), go.env.end());
    for (const auto& note : go.notes) std::fprintf(stderr, "coldstart: note: %s\n", note.c_str());
  }
  if (a.go_inittrace && !target.is_go) throw UserError("--go-inittrace: " + program + " is not a Go binary");
  InterruptGuard guard;
  try {
    // Step 2.
    std::unique_ptr<Tracer> tracer = choose_backend(a.backend, target, parse_detail(a.detail));
    // The GC of a Go target: uprobes (bpf with the runtime functions found),
    // else the runtime's own gctrace on stderr (GODEBUG, merged).
    const bool gc_uprobes = tracer->backend() == "bpf" && target.gc_probe_offsets.size() == 5;
    const bool gctrace = target.is_go && (a.go_inittrace || !gc_uprobes);
    if (gctrace) {
      std::string existing;
      for (const auto& kv : opts.env)
        if (kv.starts_with("GODEBUG=")) existing = kv.substr(8);
      if (existing.empty() && std::getenv("GODEBUG") != nullptr) existing = std::getenv("GODEBUG");
      std::erase_if(opts.env, [](const std::string& kv) { return kv.starts_with("GODEBUG="); });
      // inittrace too: its package-init instants place gctrace's times (below).
      opts.env.push_back("GODEBUG=" + godebug_with_inittrace(existing));
      opts.stderr_tail_lines = 1000000;
    }
    // Steps 3 and 4.
    TracedRun run = traced_run(*tracer, opts);
    tracer.reset();
    const launch::RunRecord& r = run.at_ready;
    const launch::RunRecord& final_record = run.stopped;
    TraceLog& log = run.log;
    // Step 5.
    std::optional<GoInitReport> go;
    if (gctrace) go = parse_go_inittrace(final_record.stderr_tail);
    // gctrace's "@S" counts from runtimeInitTime (runtime.main), which can be
    // ms after the ELF entry. inittrace counts from the same instant, and
    // main.main starts right after the last package init: anchor there when
    // main.main was seen, else at the entry.
    int64_t runtime_start = log.entry_ns.value_or(log.exec_ns.value_or(log.t0_ns));
    if (go && log.main_ns && !go->inits.empty()) {
      double last_end = 0;
      for (const auto& i : go->inits) last_end = std::max(last_end, i.start_s + i.clock_s);
      runtime_start = *log.main_ns - s_to_ns(last_end);
    }
    std::vector<GcCycle> from_gctrace;
    if (go) from_gctrace = gc_cycles_from_gctrace(*go, runtime_start, log.end_ns);
    if (target.is_go && !gc_uprobes) log.gc_cycles = from_gctrace;
    TraceSummary sum = summarize(log);
    std::optional<double> tree_cpu;
    if (Duration cpu = r.usage.user_time + r.usage.system_time; cpu.count() > 0) tree_cpu = to_seconds(cpu);
    GcSummary gc = summarize_gc(log.gc_cycles, tree_cpu);
    if (!a.chrome_trace.empty()) write_file_atomic(a.chrome_trace, report::write_chrome_trace(chrome_trace(log, sum)));
    if (a.json) {
      nlohmann::json j = to_json(log, sum, a.go_inittrace && go ? &*go : nullptr);
      if (target.is_go) j["gc"] = gc_json(log.gc_cycles, gc, log.t0_ns);
      // Both sources for the same start (bpf + --go-inittrace): they must agree.
      if (target.is_go && gc_uprobes && go)
        j["gc_gctrace"] = gc_json(from_gctrace, summarize_gc(from_gctrace, tree_cpu), log.t0_ns);
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      print_summary(log, sum, a.go_inittrace && go ? &*go : nullptr, opts.ready.to_string(),
                    target.is_go ? &gc : nullptr);
    }
    if (!r.ready && !a.json) print_stderr_tail(final_record);
    if (img && r.mount_time && !a.json) {
      std::printf("image %s: entering it %s (overlayfs mount %s) inside the traced window\n", a.image.c_str(),
                  ms(to_seconds(*r.mount_time)).c_str(), ms(to_seconds(r.overlay_mount_time.value_or(Duration(0)))).c_str());
    }
    return r.ready ? kExitOk : kExitCheckFailed;
  } catch (const Interrupted& e) {
    return e.exit_code();
  }
}

}  // namespace

CommandRunner setup_trace(CLI::App& sub) {
  auto a = std::make_shared<TraceArgs>();
  add_launch_flags(sub, a->launch);
  sub.add_option("--backend", a->backend, "auto (default: bpf, else ptrace), bpf or ptrace");
  sub.add_option("--chrome-trace", a->chrome_trace, "write the trace in the Chrome Trace Event format (Perfetto UI)");
  sub.add_flag("--json", a->json, "print the phase summary and the full event model as JSON");
  sub.add_flag("--go-inittrace", a->go_inittrace, "Go targets: GODEBUG=inittrace=1,gctrace=1; report package init and GC");
  sub.add_option("--image", a->image, "trace the start inside this image (its Entrypoint + Cmd, or -- COMMAND in it)");
  // How much the bpf backend records (docs/trace.md gives each level's cost).
  sub.add_option("--detail", a->detail, "summary (default: syscalls counted in the kernel) or full (a record per syscall)");
  sub.add_option("COMMAND", a->command, "-- PROG ARGS...");
  sub.positionals_at_end();
  return [a]() { return run_trace(*a); };
}

}  // namespace coldstart::cli
