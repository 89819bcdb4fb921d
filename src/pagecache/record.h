// Turning what a recording launch used into a manifest (prewarm record's model
// step; the launching itself lives in cli/, which may use the launcher).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pagecache/manifest.h"
#include "pagecache/page_trace.h"
#include "pagecache/working_set.h"

namespace coldstart::pagecache {

/// A manifest's "recorded_with": how its ranges were found.
inline constexpr const char* kRecordedPagemap = "pagemap";  ///< page tables; read files by residency
inline constexpr const char* kRecordedPagemapTrace = "pagemap+filemap-trace";  ///< + the page tracer
inline constexpr const char* kRecordedTrace = "filemap-trace";       ///< tree gone at ready: tracer only
inline constexpr const char* kRecordedResidency = "residency";       ///< tree gone, no tracer

/// A manifest plus the figures that show what recording by page tables saved
/// compared with recording residency.
struct Recording {
  Manifest manifest;
  uint64_t file_pages = 0;      // total pages of the recorded files
  uint64_t resident_pages = 0;  // of those, resident after the start (readahead included)
  uint64_t traced_pages = 0;    // pages only the page tracer saw (not in the page tables at ready)
  std::vector<std::string> warnings;
};

/// The page tracer's record of one start, by path (traced_by_path()).
using TracedPages = std::map<std::string, TracedFile>;

/// Builds the manifest: for each mapped file the pages present in the tree's
/// page tables; for each file of `open_files` that is not mapped (open via an
/// fd, or opened and closed during the start), its resident pages (the caller
/// evicted it before the launch, so residency is what the start read).
/// With `traced`: each file's traced `used` pages are added, files read and
/// not mapped are recorded by those alone (the pages read, not residency),
/// and traced files in neither set (a child's mapping, gone) are added.
/// Files that cannot be opened now are skipped with a warning.
Recording record_from_touched(const TouchedFiles& touched, std::vector<std::string> command,
                              const TracedPages* traced = nullptr);

/// The tree is gone at the ready instant (--ready exit) but the tracer saw
/// the start: each traced file's `used` pages.
Recording record_from_traced(const TracedPages& traced, std::vector<std::string> command);

/// The fallback when the tree is gone at the ready instant (--ready exit):
/// resident pages of `files`, which the caller evicted before the launch.
/// Over-records by the device's readahead; the manifest says "residency".
Recording record_from_residency(const std::vector<std::string>& files, std::vector<std::string> command);

}  // namespace coldstart::pagecache
