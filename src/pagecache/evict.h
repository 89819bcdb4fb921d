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
};

/// Evicts each path (duplicates are evicted once); failures are reported per
/// file in the outcome, never thrown.
EvictReport evict_files(std::span<const std::string> paths);

}  // namespace coldstart::pagecache
