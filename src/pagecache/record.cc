// Building a manifest from a recording launch.
//
// Page-table records (see working_set.cc) are exact up to fault-around; they
// are clipped to the file's current page count because a private mapping may
// extend past EOF (.bss) and those pages are anonymous, not file pages.
// The page tracer's record (page_trace.h), when there is one, is added to
// them: pages faulted and no longer mapped, and the pages read() asked for -
// which replaces residency for files read and closed, so a file read in part
// is recorded by its pages, not by what readahead brought along.
// Identity (device, inode, size, mtime) is taken from the file as it is now,
// right after the launch, so apply can refuse a file rebuilt since; it also
// identifies the file, so two paths to one inode make one entry.
#include "pagecache/record.h"

#include <fmt/format.h>

namespace coldstart::pagecache {
namespace {

/// Adds one file; `ranges` null means "use residency". `from_pagemap` is the
/// part of `ranges` the page tables gave (for the figures).
void add_file(Recording& rec, const std::string& path, const std::vector<PageRange>* ranges,
              uint64_t from_pagemap = 0) {
  auto now = residency(path);
  if (!now) {
    rec.warnings.push_back(fmt::format("{}: not recorded: {}", path, now.error()));
    return;
  }
  std::vector<PageRange> kept = ranges ? clip_to(*ranges, now->total_pages) : now->ranges;
  if (kept.empty()) return;
  if (ranges) rec.traced_pages += total_pages(kept) - std::min(total_pages(kept), from_pagemap);
  // One file under two names (/lib/... and /usr/lib/... where /lib is a
  // symlink): one entry, the union of the ranges, its pages counted once.
  for (ManifestFile& f : rec.manifest.files) {
    if (f.identity.device != now->identity.device || f.identity.inode != now->identity.inode) continue;
    f.ranges = unite(f.ranges, kept);
    return;
  }
  rec.file_pages += now->total_pages;
  rec.resident_pages += now->resident_pages;
  rec.manifest.files.push_back({path, now->identity, std::move(kept)});
}

Recording start(std::vector<std::string> command, const char* how) {
  Recording rec;
  rec.manifest.page_size = page_size();
  rec.manifest.command = std::move(command);
  rec.manifest.recorded_with = how;
  return rec;
}

const std::vector<PageRange>* used_of(const TracedPages* traced, const std::string& path) {
  if (traced == nullptr) return nullptr;
  auto it = traced->find(path);
  return it == traced->end() ? nullptr : &it->second.used;
}

}  // namespace

Recording record_from_touched(const TouchedFiles& touched, std::vector<std::string> command,
                              const TracedPages* traced) {
  Recording rec = start(std::move(command), traced ? kRecordedPagemapTrace : kRecordedPagemap);
  for (const auto& [path, ranges] : touched.mapped) {
    const std::vector<PageRange>* more = used_of(traced, path);
    std::vector<PageRange> all = more ? unite(ranges, *more) : ranges;
    add_file(rec, path, &all, total_pages(ranges));
  }
  static const std::vector<PageRange> kNone;
  for (const std::string& path : touched.open_files) {
    if (touched.mapped.contains(path)) continue;
    // Traced: what read() asked for and what was faulted (nothing: not read).
    // Untraced: residency (the caller evicted it, so that is what was read).
    const std::vector<PageRange>* used = used_of(traced, path);
    add_file(rec, path, traced ? (used ? used : &kNone) : nullptr);
  }
  if (traced)  // mapped by a process gone at ready, or unmapped again
    for (const auto& [path, f] : *traced)
      if (!touched.mapped.contains(path) && !touched.open_files.contains(path)) add_file(rec, path, &f.used);
  return rec;
}

Recording record_from_traced(const TracedPages& traced, std::vector<std::string> command) {
  Recording rec = start(std::move(command), kRecordedTrace);
  for (const auto& [path, f] : traced) add_file(rec, path, &f.used);
  return rec;
}

Recording record_from_residency(const std::vector<std::string>& files, std::vector<std::string> command) {
  Recording rec = start(std::move(command), kRecordedResidency);
  for (const std::string& path : files) add_file(rec, path, nullptr);
  return rec;
}

}  // namespace coldstart::pagecache
