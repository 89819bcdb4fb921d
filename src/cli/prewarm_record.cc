// `coldstart prewarm record [--ready SPEC] -o MANIFEST -- PROG ARGS...`
//
// Two launches through the shared launcher (src/launch/):
//  1. discovery: start until ready under a tracer (trace/traced_run.h: bpf,
//     else ptrace) and list every regular file the start opened, even if it
//     closed it again (configs, data), every file the tree has mapped or open
//     at the ready instant, plus the binary and the libraries ld.so will load
//     (elf::resolve_libraries) - so step 2 can evict all of them. Without a
//     usable tracer (or for a script) discovery runs untraced and says that
//     files read and closed before ready are not recorded;
//  2. recording: evict those files, start again until ready, and read which
//     file pages the tree's page tables hold (pagecache::touched_files) - the
//     pages this start faulted, not what the disk's readahead brought along.
//     Files only open via an fd, or opened and closed during the start, are
//     recorded by residency (they were evicted).
// --runs N repeats step 2 and keeps the union; then the gaps inside a Go
// binary's function table are filled (record_union.h fill_tables) and the
// small gaps between all ranges (--fill-gaps; fill_small_gaps says why).
// When the tree is gone at the ready instant (--ready exit), there are no page
// tables to read and the record falls back to residency of the evicted
// candidates, which over-records by the readahead (the manifest says so in
// "recorded_with"). Both launches are stopped (tree killed, cgroup removed) by
// the Launch destructor on every path, including Ctrl-C.
#include "cli/prewarm_record.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/launch_flags.h"
#include "core/error.h"
#include "core/process.h"
#include "core/signals.h"
#include "core/strings.h"
#include "elf/elf.h"
#include "launch/launcher.h"
#include "pagecache/evict.h"
#include "pagecache/page_trace.h"
#include "pagecache/record.h"
#include "pagecache/record_union.h"
#include "trace/traced_run.h"

namespace coldstart::cli {
namespace {

using namespace coldstart::pagecache;

struct RecordArgs {
  LaunchFlags launch;  // --ready (default exit), --ready-timeout, --env, --cwd, --cpu-max, --memory-*
  std::string output;
  int runs = 3;
  int64_t fill_gaps = 64;  // pages; see record_union.h fill_small_gaps
  std::vector<std::string> command;
  std::string image;
  bool runs_or_fill_given = false;  // set from the parsed options
};

/// The pages of a Go binary's function table, for fill_tables.
std::optional<PageRange> go_function_table_pages(const std::string& path) {
  auto span = elf::go_function_table_span(path);
  if (!span || span->size == 0) return std::nullopt;
  uint64_t page = page_size();
  uint64_t first = span->offset / page;
  return PageRange{first, (span->offset + span->size + page - 1) / page - first};
}

launch::LaunchOptions launch_options(const RecordArgs& a) {
  launch::LaunchOptions o;
  o.argv = a.command;
  o.ready = launch::ReadySpec::parse("exit");
  apply_launch_flags(a.launch, o);
  o.output = launch::OutputMode::kCapture;
  return o;
}

/// The error for a launch that did not become ready: the launcher's reason
/// and the last stderr line.
UserError not_ready(const char* which, const launch::RunRecord& r) {
  std::string msg = fmt::format("{} launch did not become ready: {}", which, r.failure);
  std::string tail(trim(r.stderr_tail));
  if (!tail.empty()) msg += " (stderr: " + split(tail, '\n').back() + ")";
  return UserError(msg);
}

/// Waits for ready or throws.
void require_ready(launch::Launch& l, const char* which) {
  const launch::RunRecord& r = l.wait_ready();
  if (!r.ready) throw not_ready(which, r);
}

struct Discovery {
  std::vector<std::string> candidates;  // every file to evict before the recording
  std::vector<std::string> opened;      // opened during the traced start (may be closed at ready)
  bool traced = false;
};

/// The discovery launch under a tracer; nullopt (with a warning) when no
/// tracer can run here or the target is not an ELF program.
std::optional<std::vector<std::string>> traced_discovery(const RecordArgs& a, const std::string& binary,
                                                          std::set<std::string>& files) {
  std::unique_ptr<trace::Tracer> tracer;
  try {
    tracer = trace::choose_backend("auto", trace::describe_target(binary));
  } catch (const UserError& e) {
    prewarm_warning(std::string("files read and closed before ready are not recorded (no tracer: ") + e.what() +
                    ")");
    return std::nullopt;
  }
  trace::TracedRun run = trace::traced_run(*tracer, launch_options(a));
  if (!run.at_ready.ready) throw not_ready("the discovery", run.at_ready);
  // traced_run stopped the tree: what was mapped or open is in the trace too
  // (opened files), and the libraries were resolved above.
  char cwd[4096];
  std::vector<std::string> opened = trace::files_opened(run.log, ::getcwd(cwd, sizeof cwd) ? cwd : "/");
  files.insert(opened.begin(), opened.end());
  return opened;
}

/// The page tracer across the recordings: tried at the first, dropped (with
/// one warning) when BPF cannot run here.
struct Tracing {
  bool usable = true;
};

/// One start's record: with the tracer's pages, and by page tables alone
/// (what the tracer added is the difference).
struct OneRecord {
  Recording rec;
  Manifest pagemap_only;
};

/// The page tracer's record, by path (files the start opened or mapped);
/// nullopt without a tracer.
std::optional<TracedPages> traced_pages(PageTrace* tracer, const Discovery& discovery,
                                        const TouchedFiles* touched) {
  if (tracer == nullptr) return std::nullopt;
  uint64_t dropped = 0;
  auto folded = tracer->collect(dropped);
  if (dropped > 0)
    prewarm_warning(fmt::format("the page tracer lost {} records (buffer full): the set may miss pages", dropped));
  // The names the page tables give first (absolute, as /proc/PID/maps), then
  // the discovery's, made absolute (the binary may be "./prog").
  std::vector<std::string> names;
  if (touched)
    for (const auto& [path, ranges] : touched->mapped) names.push_back(path);
  for (const std::string& c : discovery.candidates) {
    char real[PATH_MAX];
    if (::realpath(c.c_str(), real) != nullptr) names.emplace_back(real);
  }
  uint64_t unnamed = 0;
  return traced_by_path(folded, names, unnamed);
}

/// One recording: evict the candidates, start until ready (under the page
/// tracer when it can run), read what the tree's page tables hold (or only
/// the tracer's record, or residency, when the tree is gone).
OneRecord record_once(const RecordArgs& a, const Discovery& discovery, EvictReport& evicted, Tracing& tracing) {
  const std::vector<std::string>& candidates = discovery.candidates;
  evicted = evict_files(candidates);
  for (const EvictOutcome& e : evicted.files)
    if (!e.ok()) prewarm_warning(e.error);

  launch::LaunchOptions options = launch_options(a);
  options.paused = tracing.usable;  // attach to the cgroup before the first exec
  launch::Launch l(options);
  std::unique_ptr<PageTrace> tracer;
  if (tracing.usable) {
    auto t = PageTrace::start(l.cgroup_id());
    if (t) {
      tracer = std::move(*t);
    } else {
      tracing.usable = false;
      prewarm_warning("no page tracer (" + t.error() +
                      "): pages not mapped at the ready instant are not recorded, files read() by residency");
    }
    l.resume();
  }
  require_ready(l, "the recording");
  if (tracer) tracer->stop();  // the ready instant: what comes after is not the start's
  std::vector<pid_t> pids = l.tree_pids();
  OneRecord out;
  if (!pids.empty()) {
    auto touched = touched_files(pids);
    if (!touched) throw UserError("reading the started tree: " + touched.error());
    // Opened during the start but closed by now: residency, like fds (untraced).
    touched->open_files.insert(discovery.opened.begin(), discovery.opened.end());
    std::optional<TracedPages> traced = traced_pages(tracer.get(), discovery, &*touched);
    out.rec = record_from_touched(*touched, a.command, traced ? &*traced : nullptr);
    out.pagemap_only = traced ? record_from_touched(*touched, a.command).manifest : out.rec.manifest;
  } else if (std::optional<TracedPages> traced = traced_pages(tracer.get(), discovery, nullptr)) {
    out.rec = record_from_traced(*traced, a.command);
  } else {
    prewarm_warning(
        "the tree had exited at the ready instant: recording by residency (over-records the readahead)");
    out.rec = record_from_residency(candidates, a.command);
    out.pagemap_only = out.rec.manifest;
  }
  l.stop();
  for (const std::string& w : out.rec.warnings) prewarm_warning(w);
  return out;
}

/// Step 1: every file the start uses.
Discovery discover_files(const RecordArgs& a, const std::string& binary) {
  std::set<std::string> files{binary};
  try {
    for (std::string& lib : elf::resolve_libraries(binary)) files.insert(std::move(lib));
  } catch (const UserError& e) {
    prewarm_warning(std::string("libraries not resolved: ") +
                    e.what());  // e.g. a script; discovery still finds them
  }
  Discovery d;
  if (auto opened = traced_discovery(a, binary, files)) {
    d.opened = std::move(*opened);
    d.traced = true;
  } else {
    launch::Launch l(launch_options(a));
    require_ready(l, "the discovery");
    for (const std::string& f : files_in_use(l.tree_pids())) files.insert(f);
    l.stop();
  }
  d.candidates.assign(files.begin(), files.end());
  return d;
}

int run_record(const RecordArgs& a) {
  if (!a.image.empty()) {
    if (a.output.empty()) throw UserError("prewarm record: -o MANIFEST is required");
    if (a.runs_or_fill_given)
      throw UserError("prewarm record --image records one start as it was (the share of the image it touched): "
                      "--runs and --fill-gaps are for the record of a command");
    InterruptGuard guard;
    try {
      return record_image(a.image, a.command, a.launch, a.output);
    } catch (const Interrupted& e) {
      return e.exit_code();
    }
  }
  if (a.command.empty()) throw UserError("prewarm record: no command given after --");
  if (a.output.empty()) throw UserError("prewarm record: -o MANIFEST is required");
  if (a.runs < 1 || a.runs > 100) throw UserError(fmt::format("bad --runs '{}': between 1 and 100", a.runs));
  if (a.fill_gaps < 0 || a.fill_gaps > (1 << 20))
    throw UserError(fmt::format("bad --fill-gaps '{}': between 0 and 1048576 pages", a.fill_gaps));
  launch_options(a);  // every flag checked before the first launch
  InterruptGuard guard;
  try {
    std::string binary = resolve_program(a.command[0]);
    Discovery discovery = discover_files(a, binary);

    // Steps 2..N+1: a recording per start, kept as their union.
    std::vector<Manifest> runs, pagemap_runs;
    Recording rec;
    EvictReport evicted;
    Tracing tracing;
    for (int run = 0; run < a.runs; ++run) {
      throw_if_interrupted();
      OneRecord one = record_once(a, discovery, evicted, tracing);
      rec = std::move(one.rec);
      runs.push_back(rec.manifest);
      pagemap_runs.push_back(std::move(one.pagemap_only));
    }
    Stability stability, pagemap_stability;
    rec.manifest = union_of(runs, stability);
    uint64_t pagemap_pages = union_of(pagemap_runs, pagemap_stability).total_pages();
    uint64_t traced_only = stability.pages_in_some - std::min(stability.pages_in_some, pagemap_pages);
    Manifest::Recording how{a.runs, discovery.traced ? "traced" : "untraced", rec.manifest.recorded_with,
                            traced_only, stability.pages_in_every, stability.pages_in_some};
    how.gap_fill_pages = static_cast<uint64_t>(a.fill_gaps);
    if (a.fill_gaps > 0) how.pages_table_filled = fill_tables(rec.manifest, go_function_table_pages);
    how.pages_gap_filled = fill_small_gaps(rec.manifest, how.gap_fill_pages);
    rec.manifest.recording = how;
    write_manifest(a.output, rec.manifest);
    uint64_t pages = rec.manifest.total_pages();
    std::printf(
        "recorded %s pages (%s) of %zu files into %s (%s; %s of their %s pages; resident after the start: "
        "%s)\n",
        format_count(pages).c_str(), format_bytes(rec.manifest.total_bytes()).c_str(),
        rec.manifest.files.size(), a.output.c_str(), rec.manifest.recorded_with.c_str(),
        format_percent(pages, rec.file_pages, "0.0%").c_str(),
        format_count(rec.file_pages).c_str(), format_count(rec.resident_pages).c_str());
    if (rec.manifest.recorded_with == kRecordedPagemapTrace)
      std::printf("of them %s pages seen only by the page tracer (faulted or read, not mapped at the ready instant)\n",
                  format_count(traced_only).c_str());
    if (a.runs > 1) {
      std::vector<std::string> per_run;
      for (uint64_t n : stability.pages_per_run) per_run.push_back(format_count(n));
      std::printf("stability: %s pages in every one of %d starts, %s in some (%s of the union); per start: %s\n",
                  format_count(stability.pages_in_every).c_str(), stability.runs,
                  format_count(stability.pages_in_some).c_str(),
                  format_percent(stability.pages_in_every, stability.pages_in_some, "-").c_str(),
                  join(per_run, ", ").c_str());
    }
    if (how.pages_table_filled > 0)
      std::printf("of them %s pages (%s) filling the gaps inside Go's function table (.gopclntab), which the "
                  "runtime reads at offsets that vary from start to start\n",
                  format_count(how.pages_table_filled).c_str(),
                  format_bytes(how.pages_table_filled * rec.manifest.page_size).c_str());
    if (how.pages_gap_filled > 0)
      std::printf("of them %s pages (%s) filling gaps of at most %s pages between recorded ranges (--fill-gaps)\n",
                  format_count(how.pages_gap_filled).c_str(),
                  format_bytes(how.pages_gap_filled * rec.manifest.page_size).c_str(),
                  format_count(how.gap_fill_pages).c_str());
    if (evicted.resident_after > 0)
      std::printf(
          "note: %s pages of those files stayed resident through eviction (mapped by running processes)\n",
          format_count(evicted.resident_after).c_str());
    return kExitOk;
  } catch (const Interrupted& e) {
    return e.exit_code();
  }
}

}  // namespace

CommandRunner setup_prewarm_record(CLI::App& prewarm) {
  auto a = std::make_shared<RecordArgs>();
  CLI::App* rec =
      prewarm.add_subcommand("record", "launch PROG until ready and record the file pages its start used");
  add_launch_flags(*rec, a->launch);
  rec->add_option("-o,--output", a->output, "the manifest to write")->required();
  rec->add_option("--image", a->image, "record the start of this image (its Entrypoint + Cmd, or -- COMMAND inside it)");
  CLI::Option* runs = rec->add_option("--runs", a->runs, "record this many starts and keep their union (default 3)");
  CLI::Option* fill = rec->add_option("--fill-gaps", a->fill_gaps,
                                      "fill gaps of at most this many pages between recorded ranges, and all gaps "
                                      "inside a Go binary's function table (default 64; 0: neither, only the pages "
                                      "seen)");
  rec->add_option("COMMAND", a->command, "-- PROG ARGS...");
  rec->positionals_at_end();
  return [a, runs, fill]() {
    a->runs_or_fill_given = runs->count() > 0 || fill->count() > 0;
    return run_record(*a);
  };
}

}  // namespace coldstart::cli
