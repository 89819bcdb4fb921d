// `coldstart bench`: time-to-ready over many launches, compared.
//
// Flow: validate every option and command first (bad input: exit 2 before
// anything runs); plan each command (argv, Go settings under limits, the files
// --cold evicts); run warm-ups and measured runs, interleaved across commands
// (A B A B ...) so drift hits all alike; statistics; print; export; check
// budgets. Every run is one launch::launch_once(). Ctrl-C/SIGTERM: the current
// launch's destructor stops its tree and removes its cgroup, and bench exits
// 128+signal.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/bench_matrix.h"
#include "cli/commands.h"
#include "cli/history.h"
#include "cli/launch_flags.h"
#include "core/cgroup.h"
#include "core/error.h"
#include "core/file.h"
#include "core/process.h"
#include "core/signals.h"
#include "core/strings.h"
#include "elf/elf.h"
#include "image/prepare.h"
#include "launch/contention.h"
#include "launch/go_env.h"
#include "launch/launcher.h"
#include "launch/output_tail.h"
#include "launch/tree_files.h"
#include "pagecache/apply.h"
#include "pagecache/evict.h"
#include "pagecache/manifest.h"
#include "report/bench_budget.h"
#include "report/bench_export.h"

namespace coldstart::cli {
namespace {

struct BenchOptions {
  std::vector<std::string> commands;
  std::string runs_text = "10";
  std::string warmup_text;  // empty: 2 warm, 0 otherwise
  size_t runs = 10;
  std::optional<size_t> warmup;
  LaunchFlags launch;  // --ready (default exit), --ready-timeout, --env, --cwd, --cpu-max, --memory-*
  bool cold = false;
  bool warm = false;
  std::string prewarm;
  std::string export_json, export_markdown, export_csv;
  std::vector<std::string> budgets;
  bool ignore_failure = false;
  bool no_interleave = false;
  bool json = false;
  // --image: the COMMANDs (or the image's Entrypoint + Cmd) run inside it;
  // --outside: host commands benched in the same interleaved run.
  std::string image;
  std::string relayer;
  std::vector<std::string> outside;
  std::vector<std::string> matrix;  // --matrix DIM=V1,V2,... (cli/bench_matrix.h)
  size_t contend = 0;               // --contend N load processes around every run
  HistoryOptions history;  // --save, --baseline, --db, --export-prometheus, 'regression<N%' (cli/history.h)
};

/// One command, ready to be launched again and again.
struct Plan {
  std::string text;
  launch::LaunchOptions launch;
  std::vector<std::string> evict;  // binary + libraries + manifest files (--cold/--prewarm)
  std::vector<std::string> notes;
  /// --cold of a wrapper (setpriv, env, a script ...): the program it execs is
  /// learnt from the tree's mapped files at the ready instant of a run.
  bool learn_cold_set = false;
};

// --image: one plan per COMMAND (or one for the image's own), run inside it.
std::vector<Plan> make_image_plans(const BenchOptions& o, const launch::LaunchOptions& common, bool prewarm) {
  std::vector<Plan> plans;
  image::Relayer relayer = o.relayer.empty() ? image::Relayer{} : image::Relayer::parse(o.relayer);
  std::vector<std::string> commands = o.commands;
  if (commands.empty()) commands.emplace_back();
  for (const auto& text : commands) {
    image::PreparedImage img = image::prepare_image(o.image, shell_split(text), relayer, /*mountable=*/true);
    Plan p;
    p.text = "image " + o.image + (relayer.layers ? " --relayer " + relayer.text() : "") + (text.empty() ? "" : ": " + text);
    p.launch = common;
    p.launch.argv = img.run.argv;
    p.launch.env = img.run.env;
    p.launch.env.insert(p.launch.env.end(), common.env.begin(), common.env.end());
    p.launch.clear_env = true;
    p.launch.rootfs = img.rootfs;
    std::string host = img.tree.host_path(img.tree.resolve(img.run.argv[0]).value_or(img.run.argv[0]));
    launch::GoRuntimeEnv go = launch::go_runtime_env(host, common.limits, p.launch.env);
    p.launch.env.insert(p.launch.env.end(), go.env.begin(), go.env.end());
    p.notes = go.notes;
    p.notes.push_back(fmt::format("{} layers mounted ({}), {} paths visible", img.stack.size(), img.image.format,
                                  img.tree.nodes.size()));
    if (o.cold || prewarm) p.evict = img.host_files();
    plans.push_back(std::move(p));
  }
  return plans;
}

std::vector<Plan> make_plans(const BenchOptions& o, const launch::LaunchOptions& common,
                             const std::optional<pagecache::Manifest>& manifest) {
  std::vector<Plan> plans;
  if (!o.image.empty()) plans = make_image_plans(o, common, manifest.has_value());
  else if (!o.relayer.empty()) throw UserError("--relayer needs --image");
  if (o.commands.empty() && o.image.empty()) throw UserError("give a COMMAND (or --image IMAGE)");
  std::vector<std::string> host = o.image.empty() ? o.commands : o.outside;
  if (o.image.empty() && !o.outside.empty()) throw UserError("--outside needs --image");
  for (const auto& text : host) {
    Plan p;
    p.text = text;
    p.launch = common;
    p.launch.argv = shell_split(text);
    if (p.launch.argv.empty()) throw UserError("empty COMMAND");
    std::string path = resolve_program(p.launch.argv[0]);
    launch::GoRuntimeEnv go = launch::go_runtime_env(path, common.limits, common.env);
    p.launch.env.insert(p.launch.env.end(), go.env.begin(), go.env.end());
    p.notes = go.notes;
    if (o.cold && launch::is_exec_wrapper(path)) {
      if (common.ready.kind == launch::ProbeKind::kExit) {
        throw UserError("--cold '" + text + "': " + path +
                        " execs another program, and with --ready exit nothing of the tree is left to look at, so "
                        "the cold set is unknown; name the program itself, or use a readiness that waits "
                        "for the server (notify, tcp:, listen, log:)");
      }
      p.learn_cold_set = true;
      p.launch.collect_mapped_files = true;
      p.notes.push_back(fmt::format("{} execs another program: the files its tree maps at ready (learnt in an "
                                    "unmeasured first run) are evicted too",
                                    path.substr(path.rfind('/') + 1)));
    }
    if (o.cold || manifest) {
      p.evict.push_back(path);
      try {
        for (auto& lib : elf::resolve_libraries(path)) p.evict.push_back(std::move(lib));
      } catch (const UserError&) {
        // Not ELF (a script): evict just the file named.
      }
      if (manifest) {
        for (const auto& f : manifest->files) p.evict.push_back(f.path);
      }
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

launch::LaunchOptions common_launch_options(const BenchOptions& o) {
  launch::LaunchOptions l;
  l.ready = launch::ReadySpec::parse("exit");
  apply_launch_flags(o.launch, l);
  l.output = launch::OutputMode::kCapture;
  l.stop_grace = std::chrono::seconds(2);
  // Under --contend the target's cpu cgroup is a sibling of the load's (v1 here).
  if (o.contend > 0 && l.limits.containment == launch::Containment::kAuto && !cgroup_layout().v2_has("cpu"))
    l.limits.containment = launch::Containment::kV2Cpu;
  return l;
}

/// A progress bar on stderr, only when it is a terminal.
class Progress {
 public:
  explicit Progress(size_t total) : total_(total), tty_(::isatty(STDERR_FILENO) == 1) {}
  ~Progress() { clear(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void step(const std::string& what) {
    if (!tty_) return;
    ++done_;
    constexpr size_t kWidth = 30;
    size_t filled = total_ == 0 ? kWidth : done_ * kWidth / total_;
    std::fprintf(stderr, "\r\033[K[%s%s] %zu/%zu %s", std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, '.').c_str(), done_, total_, what.substr(0, 40).c_str());
    std::fflush(stderr);
  }
  void clear() {
    if (tty_ && done_ > 0) std::fprintf(stderr, "\r\033[K"), std::fflush(stderr);
    done_ = 0;
  }

 private:
  size_t total_, done_ = 0;
  bool tty_;
};

/// Adds `note` to `notes` unless it is there: a warning is said once, not per run.
void note_once(std::vector<std::string>& notes, const std::string& note) {
  if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
}

/// One launch of a plan: evict/prewarm before it (outside the timed window).
/// Warnings (files that could not be evicted) go to `notes`, once each.
report::BenchRun run_once(Plan& plan, const std::string& mode, const std::optional<pagecache::Manifest>& manifest,
                          std::vector<std::string>& notes) {
  report::BenchRun run;
  if (mode != "warm") {
    pagecache::EvictReport ev = pagecache::evict_files(plan.evict);
    run.resident_before_pages = ev.resident_before;
    run.resident_at_start_pages = ev.resident_after;
    run.file_pages = ev.total_pages;
    run.residency_known = ev.residency_known;
    for (const auto& f : ev.files) {
      // A manifest's missing file is apply's warning (below), not a second one.
      bool missing = !f.ok() && ::access(f.path.c_str(), F_OK) != 0;
      if (!f.ok() && !(manifest && missing)) note_once(notes, "warning: not evicted, so not cold: " + f.error);
    }
    if (manifest) {
      // What prewarm loaded is what the run starts with: measure after the load.
      pagecache::ApplyResult applied = pagecache::apply_manifest(*manifest, pagecache::ApplyOptions{});
      for (const auto& w : applied.warnings()) note_once(notes, "warning: prewarm: " + w);
      pagecache::FilesResidency now = pagecache::files_residency(plan.evict);
      run.resident_at_start_pages = now.resident_pages;
      run.residency_known = run.residency_known && now.known;
    }
  }
  launch::RunRecord r = launch::launch_once(plan.launch);
  run = report::bench_run_of(r, std::move(run));
  if (plan.learn_cold_set) {
    // What the wrapper exec'd: evicted before the next runs (a set that only grows).
    for (auto& f : r.mapped_files) {
      if (std::find(plan.evict.begin(), plan.evict.end(), f) == plan.evict.end()) plan.evict.push_back(std::move(f));
    }
  }
  if (!r.ready) {
    if (std::string tails = launch::output_tails(r); !tails.empty()) {
      tails.pop_back();  // the final newline: the printer adds its own
      run.failure += "\n" + tails;
    }
  }
  return run;
}

int run_bench(const BenchOptions& o) {
  // 1. Validate everything before the first launch.
  if (o.cold && o.warm) throw UserError("--cold and --warm exclude each other");
  if (!o.prewarm.empty() && (o.cold || o.warm)) {
    throw UserError(std::string(o.cold ? "--cold" : "--warm") +
                    " and --prewarm exclude each other (--prewarm evicts, then loads the manifest, before every run)");
  }
  check_output_path(o.export_json, "--export-json");
  check_output_path(o.export_markdown, "--export-markdown");
  check_output_path(o.export_csv, "--export-csv");
  check_output_path(o.history.prometheus, "--export-prometheus");
  launch::LaunchOptions common = common_launch_options(o);
  std::vector<report::Budget> budgets;
  for (const auto& b : o.budgets)
    budgets.push_back(with_flag("--budget", b, [&] { return report::Budget::parse(b); }));
  std::optional<pagecache::Manifest> manifest;
  if (!o.prewarm.empty()) manifest = pagecache::read_manifest(o.prewarm);
  const std::string mode = manifest ? "prewarm" : o.cold ? "cold" : "warm";
  size_t warmup = o.warmup.value_or(mode == "warm" ? 2 : 0);
  if (!o.matrix.empty()) {
    // One bench over the product of the dimensions (cli/bench_matrix.cc).
    MatrixRequest m{o.commands.at(0), parse_matrix(o.matrix), o.runs, o.warmup.value_or(1), o.contend, common,
                    o.export_json, o.export_markdown, o.json, o.ignore_failure};
    if (o.commands.size() != 1) throw UserError("--matrix takes one COMMAND (the cells are its variants)");
    if (mode != "warm" || !o.export_csv.empty() || !o.budgets.empty() || o.no_interleave)
      throw UserError("--matrix does not combine with --cold, --prewarm, --export-csv, --budget or --no-interleave");
    if (!o.history.save.empty() || !o.history.baseline.empty() || !o.history.prometheus.empty())
      throw UserError("--matrix does not combine with --save, --baseline or --export-prometheus");
    return run_bench_matrix(m);
  }

  // 2. Plan each command (resolves the program: "command not found" is exit 2).
  std::vector<Plan> plans = make_plans(o, common, manifest);
  // A wrapper's cold set is learnt in a run: at least one before the measured ones.
  if (warmup == 0 && std::any_of(plans.begin(), plans.end(), [](const Plan& p) { return p.learn_cold_set; })) warmup = 1;

  // 3. Run: warm-ups, then measured runs, interleaved unless told otherwise.
  InterruptGuard interrupts;
  report::BenchReport report;
  report.interleaved = !o.no_interleave;
  report.warmup = warmup;
  for (const auto& p : plans) {
    report::BenchCommandResult c;
    c.command = p.text;
    c.mode = mode;
    c.ready = common.ready.text;
    c.notes = p.notes;
    report.commands.push_back(std::move(c));
  }
  Progress progress((warmup + o.runs) * plans.size());
  auto one = [&](size_t i, bool measured) -> bool {
    progress.step(plans[i].text);
    std::optional<launch::Contention> load;
    if (o.contend > 0) load.emplace(o.contend);
    report::BenchRun run = run_once(plans[i], mode, manifest, report.commands[i].notes);
    load.reset();
    bool ok = run.ready;
    if (!ok && !o.ignore_failure) {
      progress.clear();
      std::fprintf(stderr, "coldstart: bench: %s run of '%s' failed: %s\n", measured ? "a" : "a warm-up",
                   plans[i].text.c_str(), run.failure.c_str());
      std::fprintf(stderr, "coldstart: bench: stopping (use --ignore-failure to go on)\n");
    }
    if (measured) report.commands[i].runs.push_back(std::move(run));
    return ok || o.ignore_failure;
  };
  try {
    std::vector<std::pair<size_t, bool>> order;  // (command, measured)
    for (size_t i = 0; i < plans.size(); ++i) {
      for (size_t w = 0; w < warmup; ++w) order.emplace_back(i, false);
    }
    if (o.no_interleave) {
      for (size_t i = 0; i < plans.size(); ++i) {
        for (size_t r = 0; r < o.runs; ++r) order.emplace_back(i, true);
      }
    } else {
      for (size_t r = 0; r < o.runs; ++r) {
        for (size_t i = 0; i < plans.size(); ++i) order.emplace_back(i, true);
      }
    }
    for (auto [i, measured] : order) {
      if (!one(i, measured)) return kExitCheckFailed;
    }
  } catch (const Interrupted& e) {
    progress.clear();
    std::fprintf(stderr, "coldstart: bench: interrupted by %s; the target was stopped and its cgroup removed\n",
                 e.signal() == SIGINT ? "SIGINT" : e.signal() == SIGTERM ? "SIGTERM" : "a signal");
    return e.exit_code();
  }
  progress.clear();

  // 4. Statistics, output, exports.
  report::finish_report(report);
  if (o.json) std::fputs((report::bench_json(report).dump(2) + "\n").c_str(), stdout);
  else std::fputs(report::bench_text(report).c_str(), stdout);
  if (!o.export_json.empty()) write_file_atomic(o.export_json, report::bench_json(report).dump(2) + "\n");
  if (!o.export_markdown.empty()) write_file_atomic(o.export_markdown, report::bench_markdown(report));
  if (!o.export_csv.empty()) write_file_atomic(o.export_csv, report::bench_csv(report));

  // 5. Budgets (exit 1 when broken) and failed runs under --ignore-failure.
  int status = kExitOk;
  for (const auto& b : budgets) {
    for (const auto& c : report.commands) {
      if (b.holds(c.stats)) continue;
      std::fprintf(stderr, "coldstart: bench: budget '%s' broken by '%s': %s = %s\n", b.text.c_str(),
                   c.command.c_str(), b.stat.c_str(),
                   c.stats.count ? format_duration(b.value(c.stats)).c_str() : "no ready run");
      status = kExitCheckFailed;
    }
  }
  if (finish_history(o.history, report::bench_json(report), o.json ? stderr : stdout) != kExitOk)
    status = kExitCheckFailed;
  return status;
}

}  // namespace

CommandRunner setup_bench(CLI::App& sub) {
  auto o = std::make_shared<BenchOptions>();
  sub.add_option("--runs,-r", o->runs_text, "measured launches per command (default 10)")->take_last();
  sub.add_option("--warmup,-w", o->warmup_text, "unmeasured launches first (default 2 warm, 0 cold)")->take_last();
  add_launch_flags(sub, o->launch);
  sub.add_flag("--cold", o->cold, "evict the binary, its libraries and manifest files before every run");
  sub.add_flag("--warm", o->warm, "keep the page cache (default)");
  sub.add_option("--prewarm", o->prewarm, "evict, then load this prewarm manifest before every run");
  sub.add_option("--export-json", o->export_json, "write results as JSON (hyperfine's schema + ours)");
  sub.add_option("--export-markdown", o->export_markdown, "write a markdown table");
  sub.add_option("--export-csv", o->export_csv, "write one CSV row per run");
  sub.add_option("--budget", o->budgets,
                 "fail (exit 1) unless STAT<DURATION holds, e.g. 'p95<20ms'; with --baseline, 'regression<10%' "
                 "fails when the slowdown is significant (p<0.05) AND the 95% CI of the median ratio lies above 1.10")
      ->allow_extra_args(false);  // one value per --budget: COMMANDs after it stay COMMANDs
  sub.add_flag("--ignore-failure", o->ignore_failure, "record failed runs and go on");
  sub.add_flag("--no-interleave", o->no_interleave, "run each command's runs in one block");
  sub.add_flag("--json", o->json, "print the JSON on stdout instead of the table");
  sub.add_option("--image", o->image,
                 "run inside this image (OCI layout dir, oci-archive or docker-archive): its layers mounted with "
                 "overlayfs in a private mount namespace; COMMANDs run in it (default: its Entrypoint + Cmd)");
  sub.add_option("--relayer", o->relayer, "with --image: re-split its files into N layers (N:top: program and libraries lowest)");
  sub.add_option("--outside", o->outside, "with --image: a host COMMAND benched in the same interleaved run (repeatable)")
      ->allow_extra_args(false);
  sub.add_option("--matrix", o->matrix,
                 "DIM=V1,V2,...: bench every cell of the product of the dimensions (repeatable); DIM is cpu-max "
                 "(none, CPUs like 0.5, or QUOTA/PERIOD), memory-max, memory-high, cpu-weight (1-10000), "
                 "containment (v2, v2+cpu, v2+cpu+memory) or env:NAME (auto/unset: leave unset)")
      ->allow_extra_args(false);
  sub.add_option("--contend", o->contend, "run N CPU-bound load processes in a sibling cgroup during every run");
  add_history_options(sub, o->history);
  sub.add_option("commands", o->commands, "COMMAND... (each one string, split like a shell, no shell)");
  return [o] {
    o->runs = count_flag("--runs", o->runs_text, 1);
    if (!o->warmup_text.empty()) o->warmup = count_flag("--warmup", o->warmup_text, 0);
    prepare_history(o->history, o->budgets);  // before any launch: bad label or database is exit 2
    return run_bench(*o);
  };
}

}  // namespace coldstart::cli
