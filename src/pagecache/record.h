// Turning what a recording launch used into a manifest (prewarm record's model
// step; the launching itself lives in cli/, which may use the launcher).
#pragma once

#include <string>
#include <vector>

#include "pagecache/manifest.h"
#include "pagecache/working_set.h"

namespace coldstart::pagecache {

/// A manifest plus the figures that show what recording by page tables saved
/// compared with recording residency.
struct Recording {
  Manifest manifest;
  uint64_t file_pages = 0;      // total pages of the recorded files
  uint64_t resident_pages = 0;  // of those, resident after the start (readahead included)
  std::vector<std::string> warnings;
};

/// Builds the manifest: for each mapped file the pages present in the tree's
/// page tables; for each file of `open_files` that is not mapped (open via an
/// fd, or opened and closed during the start), its resident pages (the caller
/// evicted it before the launch, so residency is what the start read).
/// Files that cannot be opened now are skipped with a warning.
Recording record_from_touched(const TouchedFiles& touched, std::vector<std::string> command);

/// The fallback when the tree is gone at the ready instant (--ready exit):
/// resident pages of `files`, which the caller evicted before the launch.
/// Over-records by the device's readahead; the manifest says "residency".
Recording record_from_residency(const std::vector<std::string>& files, std::vector<std::string> command);

}  // namespace coldstart::pagecache
