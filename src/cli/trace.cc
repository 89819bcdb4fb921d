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
#include <memory>
#include <optional>

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
#include "report/trace_export.h"
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

void print_stderr_tail(const launch::RunRecord& r) {
  std::string tail(trim(r.stderr_tail));
  if (!tail.empty()) std::printf("\nthe target's last stderr lines:\n%s\n", tail.c_str());
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
    if (!a.chrome_trace.empty()) write_file_atomic(a.chrome_trace, report::write_chrome_trace(report::chrome_trace_of(log, sum)));
    if (a.json) {
      nlohmann::json j = to_json(log, sum, a.go_inittrace && go ? &*go : nullptr);
      if (target.is_go) j["gc"] = gc_json(log.gc_cycles, gc, log.t0_ns);
      // Both sources for the same start (bpf + --go-inittrace): they must agree.
      if (target.is_go && gc_uprobes && go)
        j["gc_gctrace"] = gc_json(from_gctrace, summarize_gc(from_gctrace, tree_cpu), log.t0_ns);
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::fputs(report::trace_summary_text(log, sum, a.go_inittrace && go ? &*go : nullptr, opts.ready.to_string(),
                                            target.is_go ? &gc : nullptr)
                     .c_str(),
                 stdout);
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
