// prewarm_misses: what a start after `prewarm apply` still has to read.
//
//   prewarm_misses MANIFEST READY -- PROG ARGS...
//
// Evicts the manifest's files, applies the manifest (populate), starts PROG
// (environment inherited) until READY under the page tracer
// (pagecache/page_trace.h) and prints, per file, the pages the start brought
// into the page cache (each one a read the prewarm did not save: a page the
// record missed, plus the readahead around it) and the pages it needed
// (faulted or read) that the manifest does not hold. A complete record
// prints no needed page outside the manifest. The investigation tool behind
// docs/prewarm.md "Why cold-after-apply was slower than warm".
#include <fmt/format.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/clock.h"
#include "launch/launcher.h"
#include "pagecache/apply.h"
#include "pagecache/evict.h"
#include "pagecache/manifest.h"
#include "pagecache/page_trace.h"

using namespace coldstart;
using namespace coldstart::pagecache;

int main(int argc, char** argv) {
  if (argc < 5 || std::string(argv[3]) != "--") {
    std::fprintf(stderr, "usage: prewarm_misses MANIFEST READY -- PROG ARGS...\n");
    return 2;
  }
  try {
    Manifest m = read_manifest(argv[1]);
    std::vector<std::string> paths;
    for (const ManifestFile& f : m.files) paths.push_back(f.path);
    evict_files(paths);
    ApplyResult applied = apply_manifest(m, {});
    launch::LaunchOptions o;
    o.argv.assign(argv + 4, argv + argc);
    o.ready = launch::ReadySpec::parse(argv[2]);
    o.output = launch::OutputMode::kCapture;
    o.paused = true;
    launch::Launch l(o);
    auto tracer = PageTrace::start(l.cgroup_id());
    if (!tracer) {
      std::fprintf(stderr, "prewarm_misses: %s\n", tracer.error().c_str());
      return 1;
    }
    l.resume();
    const launch::RunRecord& r = l.wait_ready();
    (*tracer)->stop();
    if (!r.ready) {
      std::fprintf(stderr, "prewarm_misses: not ready: %s\n", r.failure.c_str());
      return 1;
    }
    double ready_ms = to_seconds(r.time_to_ready) * 1e3;
    uint64_t dropped = 0, unnamed = 0;
    auto folded = (*tracer)->collect(dropped);
    auto traced = traced_by_path(folded, paths, unnamed);
    // Pages of files outside the manifest that the start brought in, by (device, inode).
    std::string others;
    for (const auto& [key, f] : folded) {
      bool named = false;
      for (const std::string& path : paths) {
        struct stat st {};
        named = named || (::stat(path.c_str(), &st) == 0 && st.st_dev == key.first && st.st_ino == key.second);
      }
      if (!named && total_pages(f.added) > 0)
        others += fmt::format(" dev {}:{} inode {}: {} pages;", major(key.first), minor(key.first), key.second,
                              total_pages(f.added));
    }
    l.stop();
    if (!others.empty()) std::printf("brought in, files outside the manifest:%s\n", others.c_str());
    std::printf("applied %llu pages; ready after %.2f ms; records lost %llu; pages needed of files not in the "
                "manifest: %llu\n",
                static_cast<unsigned long long>(applied.pages), ready_ms,
                static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(unnamed));
    uint64_t all_added = 0, all_missed = 0;
    for (const ManifestFile& f : m.files) {
      auto it = traced.find(f.path);
      if (it == traced.end()) continue;
      std::vector<PageRange> want = local_ranges(f, m.page_size);
      const TracedFile& t = it->second;
      uint64_t added = total_pages(t.added), used = total_pages(t.used), missed = used - overlap(t.used, want);
      all_added += added, all_missed += missed;
      if (added == 0 && missed == 0) continue;
      std::string where;
      for (const PageRange& p : t.added) {
        where += fmt::format(" {}+{}", p.first, p.count);
      }
      std::string miss;
      std::vector<PageRange> in = intersect(t.used, want);
      for (const PageRange& p : t.used) {
        // the pages of p not in the manifest, as ranges
        uint64_t at = p.first;
        for (const PageRange& q : in) {
          if (q.end() <= p.first || q.first >= p.end()) continue;
          if (q.first > at) miss += fmt::format(" {}+{}", at, q.first - at);
          at = q.end();
        }
        if (at < p.end()) miss += fmt::format(" {}+{}", at, p.end() - at);
      }
      std::printf("%-60s added %5llu  needed %5llu  needed-not-in-manifest %4llu\n  added:%s\n  missing:%s\n",
                  f.path.c_str(), static_cast<unsigned long long>(added), static_cast<unsigned long long>(used),
                  static_cast<unsigned long long>(missed), where.c_str(), miss.c_str());
    }
    std::printf("total: %llu pages brought in by the start, %llu needed pages not in the manifest\n",
                static_cast<unsigned long long>(all_added), static_cast<unsigned long long>(all_missed));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prewarm_misses: %s\n", e.what());
    return 2;
  }
}
