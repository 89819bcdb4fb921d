// `coldstart prewarm record|apply|evict|status`: parses options, calls the
// page-cache layer (src/pagecache/) and prints its models as text or JSON.
// record's launching lives in prewarm_record.cc.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/prewarm_record.h"
#include "core/error.h"
#include "core/file.h"
#include "core/strings.h"
#include "pagecache/apply.h"
#include "pagecache/evict.h"
#include "pagecache/manifest.h"

namespace coldstart::cli {
namespace {

using nlohmann::json;
using namespace coldstart::pagecache;

void print_json(const json& j) { std::fputs((j.dump(2) + "\n").c_str(), stdout); }

std::string percent(uint64_t part, uint64_t whole) { return format_percent(part, whole, "-"); }

/// A single argument that looks like JSON is a manifest (and must be a valid
/// one); anything else is a list of files.
bool is_manifest_argument(const std::vector<std::string>& args) {
  if (args.size() != 1) return false;
  if (args[0].ends_with(".json")) return true;
  struct stat st {};
  if (::stat(args[0].c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  auto fd = try_open(args[0], O_RDONLY | O_NONBLOCK);
  char c = 0;
  while (fd && ::read(fd->get(), &c, 1) == 1)
    if (!std::isspace(static_cast<unsigned char>(c))) return c == '{';
  return false;
}

/// The files of MANIFEST | FILE..., and the manifest when one was given.
struct Targets {
  std::vector<std::string> paths;
  std::optional<Manifest> manifest;
};

Targets targets_of(const std::vector<std::string>& args, bool files_only) {
  Targets t;
  if (!files_only && is_manifest_argument(args)) {
    t.manifest = read_manifest(args[0]);
    for (const ManifestFile& f : t.manifest->files) t.paths.push_back(f.path);
  } else {
    t.paths = args;
  }
  return t;
}

// ---- apply ----

struct ApplyArgs {
  std::vector<std::string> targets;  // MANIFEST | FILE...
  bool lock = false;
  bool json = false;
  std::string method = "populate";
  unsigned threads = 0;
};

json apply_json(const ApplyResult& r, const ApplyArgs& a) {
  json files = json::array();
  for (const FileApplied& f : r.files)
    files.push_back({{"path", f.path},
                     {"status", to_string(f.status)},
                     {"pages", f.pages},
                     {"bytes", f.bytes},
                     {"message", f.message.empty() ? json(nullptr) : json(f.message)}});
  return {{"targets", a.targets},
          {"method", to_string(r.method)},
          {"files_loaded", r.files_loaded},
          {"pages", r.pages},
          {"bytes", r.bytes},
          {"seconds", r.seconds},
          {"bytes_per_second", r.bytes_per_second()},
          {"locked_bytes", r.locked.locked_bytes()},
          {"files", files}};
}

/// SIGINT, SIGTERM and SIGHUP: what ends apply --lock.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
  return set;
}

/// Waits for a stop signal (blocked by the caller); the caller then unlocks by unmapping.
int hold_until_signal() {
  sigset_t set = stop_signals();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return 0;
}

int run_apply(const ApplyArgs& a) {
  Targets t = targets_of(a.targets, false);
  Manifest m = t.manifest ? std::move(*t.manifest) : whole_files_manifest(t.paths);
  auto method = parse_load_method(a.method);
  if (!method) throw UserError("--method: " + method.error());
  ApplyOptions opts{*method, a.threads, a.lock};
  if (a.lock) {
    // Blocked before the load threads start (they inherit the mask), so the
    // signal stays pending for sigwait instead of killing us mid-load.
    sigset_t set = stop_signals();
    if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0)
      throw UserError("pthread_sigmask: cannot block SIGTERM");
  }
  ApplyResult r = apply_manifest(m, opts);
  for (const std::string& w : r.warnings()) prewarm_warning(w);
  if (a.json) {
    print_json(apply_json(r, a));
  } else {
    std::printf("loaded %s pages (%s) of %s files in %s (%s/s, %s)\n", format_count(r.pages).c_str(),
                format_bytes(r.bytes).c_str(), format_count(r.files_loaded).c_str(),
                format_duration(r.seconds).c_str(),
                format_bytes(static_cast<uint64_t>(r.bytes_per_second())).c_str(),
                std::string(to_string(r.method)).c_str());
    if (r.files_loaded < r.files.size())
      std::printf("skipped %zu of %zu files (see warnings)\n", r.files.size() - r.files_loaded,
                  r.files.size());
  }
  if (a.lock) {
    if (!a.json)
      std::printf("locked %s in memory; holding until SIGINT or SIGTERM\n",
                  format_bytes(r.locked.locked_bytes()).c_str());
    std::fflush(stdout);
    return hold_until_signal();
  }
  return kExitOk;
}

// ---- evict ----

struct FilesArgs {
  std::vector<std::string> targets;
  bool json = false;
  bool files_only = false;  // --files: a single .json argument is a file, not a manifest
};

int run_evict(const FilesArgs& a) {
  Targets t = targets_of(a.targets, a.files_only);
  EvictReport r = evict_files(t.paths);
  json files = json::array();
  for (const EvictOutcome& f : r.files) {
    if (!f.ok()) prewarm_warning(f.error);
    files.push_back({{"path", f.path},
                     {"pages", f.total_pages},
                     {"resident_before", f.resident_before},
                     {"resident_after", f.resident_after},
                     {"error", f.ok() ? json(nullptr) : json(f.error)}});
  }
  if (a.json) {
    print_json({{"files", files},
                {"pages", r.total_pages},
                {"resident_before", r.resident_before},
                {"resident_after", r.resident_after}});
    return kExitOk;
  }
  for (const EvictOutcome& f : r.files)
    if (f.ok() && f.resident_after > 0)
      std::printf("%s: %s of %s pages stayed (mapped, locked or dirty)\n", f.path.c_str(),
                  format_count(f.resident_after).c_str(), format_count(f.total_pages).c_str());
  std::printf("evicted %zu files: %s pages were resident, %s stayed (%s of %s pages)\n", r.files.size(),
              format_count(r.resident_before).c_str(), format_count(r.resident_after).c_str(),
              percent(r.resident_after, r.total_pages).c_str(), format_count(r.total_pages).c_str());
  return kExitOk;
}

// ---- status ----

int run_status(const FilesArgs& a) {
  Targets t = targets_of(a.targets, a.files_only);
  const uint64_t page = page_size();
  json files = json::array();
  uint64_t total = 0, resident = 0, recorded = 0, recorded_resident = 0;
  std::vector<std::string> lines;
  for (size_t i = 0; i < t.paths.size(); ++i) {
    const std::string& path = t.paths[i];
    auto r = residency(path);
    if (!r) {
      prewarm_warning(r.error());
      files.push_back({{"path", path}, {"error", r.error()}});
      continue;
    }
    json j = {{"path", path},
              {"size", r->identity.size},
              {"pages", r->total_pages},
              {"resident_pages", r->resident_pages},
              {"resident_bytes", r->resident_pages * page}};
    std::string in_set;
    total += r->total_pages;
    resident += r->resident_pages;
    if (t.manifest) {
      std::vector<PageRange> want = local_ranges(t.manifest->files[i], t.manifest->page_size);
      uint64_t w = total_pages(want), got = overlap(r->ranges, want);
      recorded += w, recorded_resident += got;
      j["recorded_pages"] = w;
      j["recorded_resident_pages"] = got;
      in_set = fmt::format("  {:>9}/{:<9}", format_count(got), format_count(w));
    }
    files.push_back(j);
    lines.push_back(fmt::format("{:>9}/{:<9} {:>6} {:>10}{}  {}", format_count(r->resident_pages),
                                format_count(r->total_pages), percent(r->resident_pages, r->total_pages),
                                format_bytes(r->identity.size), in_set, path));
  }
  if (a.json) {
    json out = {{"files", files},
                {"pages", total},
                {"resident_pages", resident},
                {"resident_bytes", resident * page}};
    if (t.manifest) out["recorded_pages"] = recorded, out["recorded_resident_pages"] = recorded_resident;
    print_json(out);
    return kExitOk;
  }
  std::printf("%19s %6s %10s%s  %s\n", "resident/pages", "%", "size",
              t.manifest ? "  recorded:resident/pages" : "", "file");
  for (const std::string& l : lines) std::printf("%s\n", l.c_str());
  std::printf("total: %s of %s pages resident (%s, %s)", format_count(resident).c_str(),
              format_count(total).c_str(), format_bytes(resident * page).c_str(),
              percent(resident, total).c_str());
  if (t.manifest)
    std::printf("; recorded set: %s of %s pages resident (%s)", format_count(recorded_resident).c_str(),
                format_count(recorded).c_str(), percent(recorded_resident, recorded).c_str());
  std::printf("\n");
  return kExitOk;
}

}  // namespace

void prewarm_warning(const std::string& line) {
  std::fprintf(stderr, "coldstart: warning: %s\n", line.c_str());
}

CommandRunner setup_prewarm(CLI::App& sub) {
  sub.require_subcommand(1);
  auto apply = std::make_shared<ApplyArgs>();
  CLI::App* ap =
      sub.add_subcommand("apply", "load MANIFEST's recorded ranges (or whole FILEs) into the page cache");
  ap->add_option("TARGET", apply->targets, "MANIFEST (written by prewarm record) | FILE... (whole files)")
      ->required();
  ap->add_flag("--lock", apply->lock,
               "keep the pages resident with mlock until SIGINT/SIGTERM (like vmtouch -l)");
  ap->add_option("--method", apply->method,
                 "populate (default: queue all, wait until resident) | willneed | read");
  ap->add_option("--threads", apply->threads, "files loaded in parallel (default min(files, 8))");
  ap->add_flag("--json", apply->json, "machine-readable output");

  auto evict = std::make_shared<FilesArgs>();
  CLI::App* ev = sub.add_subcommand("evict", "drop MANIFEST's files (or FILEs) from the page cache");
  ev->add_option("TARGET", evict->targets, "MANIFEST | FILE...")->required();
  ev->add_flag("--json", evict->json, "machine-readable output");
  ev->add_flag("--files", evict->files_only, "treat every TARGET as a file, even a single .json one");

  auto status = std::make_shared<FilesArgs>();
  CLI::App* st = sub.add_subcommand("status", "resident pages per file and in total, like fincore");
  st->add_option("TARGET", status->targets, "MANIFEST | FILE...")->required();
  st->add_flag("--json", status->json, "machine-readable output");
  st->add_flag("--files", status->files_only, "treat every TARGET as a file, even a single .json one");

  CommandRunner record = setup_prewarm_record(sub);

  return [=, &sub]() -> int {
    if (ap->parsed()) return run_apply(*apply);
    if (ev->parsed()) return run_evict(*evict);
    if (st->parsed()) return run_status(*status);
    if (sub.get_subcommand("record")->parsed()) return record();
    throw UserError("prewarm: missing subcommand (record, apply, evict, status)");
  };
}

}  // namespace coldstart::cli
