// Dropping files from the page cache (bench --cold, prewarm evict, prewarm record).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace coldstart::pagecache {

/// What evicting one file did: pages resident before and after. Pages that
/// stayed are mapped (and in use) by some process, locked, or dirty.
struct EvictOutcome {
  std::string path;
  uint64_t total_pages = 0;
  uint64_t resident_before = 0;
  uint64_t resident_after = 0;
  std::string error;  // non-empty: the file was not evicted (missing, refused, ...)
  bool residency_known = true;  // false: mincore cannot see this file (FileResidency::exact)
  bool ok() const { return error.empty(); }
};

/// Evicts one file with POSIX_FADV_DONTNEED over the whole file, measuring
/// residency before and after. Never writes to the file.
EvictOutcome evict_file(const std::string& path);

/// Totals over several files.
struct EvictReport {
  std::vector<EvictOutcome> files;
  uint64_t total_pages = 0;
  uint64_t resident_before = 0;
  uint64_t resident_after = 0;
  bool residency_known = true;  // every file's residency was seen (else the counts mean nothing)
  size_t failed = 0;            // files that could not be evicted (their outcome says why)
};

/// Page-cache residency over several files, each file (device and inode)
/// counted once whatever path names it.
struct FilesResidency {
  uint64_t total_pages = 0;
  uint64_t resident_pages = 0;
  bool known = true;  // false: mincore cannot see some file (FileResidency::exact)
};
FilesResidency files_residency(std::span<const std::string> paths);

/// Evicts each path (a file named twice, by any path, is evicted and counted once); failures are reported per
/// file in the outcome, never thrown.
EvictReport evict_files(std::span<const std::string> paths);

}  // namespace coldstart::pagecache
