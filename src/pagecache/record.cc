// Building a manifest from a recording launch.
//
// Page-table records (see working_set.cc) are exact up to fault-around; they
// are clipped to the file's current page count because a private mapping may
// extend past EOF (.bss) and those pages are anonymous, not file pages.
// Identity (device, inode, size, mtime) is taken from the file as it is now,
// right after the launch, so apply can refuse a file rebuilt since; it also
// identifies the file, so two paths to one inode make one entry.
#include "pagecache/record.h"

#include <fmt/format.h>

namespace coldstart::pagecache {
namespace {

std::vector<PageRange> clip_to(std::vector<PageRange> ranges, uint64_t pages) {
  std::vector<PageRange> out;
  for (PageRange r : ranges) {
    if (r.first >= pages) break;
    r.count = std::min(r.end(), pages) - r.first;
    out.push_back(r);
  }
  return out;
}

/// Adds one file; `touched` null means "use residency".
void add_file(Recording& rec, const std::string& path, const std::vector<PageRange>* touched) {
  auto now = residency(path);
  if (!now) {
    rec.warnings.push_back(fmt::format("{}: not recorded: {}", path, now.error()));
    return;
  }
  std::vector<PageRange> ranges = touched ? clip_to(*touched, now->total_pages) : now->ranges;
  if (ranges.empty()) return;
  // One file under two names (/lib/... and /usr/lib/... where /lib is a
  // symlink): one entry, the union of the ranges, its pages counted once.
  for (ManifestFile& f : rec.manifest.files) {
    if (f.identity.device != now->identity.device || f.identity.inode != now->identity.inode) continue;
    ranges.insert(ranges.end(), f.ranges.begin(), f.ranges.end());
    f.ranges = normalize(std::move(ranges));
    return;
  }
  rec.file_pages += now->total_pages;
  rec.resident_pages += now->resident_pages;
  rec.manifest.files.push_back({path, now->identity, std::move(ranges)});
}

Recording start(std::vector<std::string> command, const char* how) {
  Recording rec;
  rec.manifest.page_size = page_size();
  rec.manifest.command = std::move(command);
  rec.manifest.recorded_with = how;
  return rec;
}

}  // namespace

Recording record_from_touched(const TouchedFiles& touched, std::vector<std::string> command) {
  Recording rec = start(std::move(command), "pagemap");
  for (const auto& [path, ranges] : touched.mapped) add_file(rec, path, &ranges);
  for (const std::string& path : touched.open_files)
    if (!touched.mapped.contains(path)) add_file(rec, path, nullptr);
  return rec;
}

Recording record_from_residency(const std::vector<std::string>& files, std::vector<std::string> command) {
  Recording rec = start(std::move(command), "residency");
  for (const std::string& path : files) add_file(rec, path, nullptr);
  return rec;
}

}  // namespace coldstart::pagecache
