// Applying a manifest: load each file's recorded ranges, in parallel across
// files, skipping files that changed since recording. Used by prewarm apply,
// bench --prewarm and run --prewarm.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pagecache/load.h"
#include "pagecache/manifest.h"

namespace coldstart::pagecache {

/// Options of apply.
struct ApplyOptions {
  LoadMethod method = LoadMethod::kPopulate;
  unsigned threads = 0;  // 0: min(files, 8)
  bool lock = false;     // keep the ranges mlocked in `ApplyResult::locked`
};

/// What happened to one manifest file.
struct FileApplied {
  enum class Status { kLoaded, kChanged, kMissing, kRefused, kFailed };
  std::string path;
  Status status = Status::kFailed;
  std::string message;  // why it was skipped / a lock warning
  uint64_t pages = 0;   // pages requested (local page size)
  uint64_t bytes = 0;   // bytes requested, clipped to the file size
};

std::string_view to_string(FileApplied::Status s);

/// The outcome of applying a manifest.
struct ApplyResult {
  std::vector<FileApplied> files;  // manifest order
  uint64_t pages = 0;              // loaded files only
  uint64_t bytes = 0;
  uint64_t files_loaded = 0;
  double seconds = 0;  // wall time of the load (not of parsing)
  LoadMethod method = LoadMethod::kPopulate;
  LockedRanges locked;                        // empty unless options.lock
  std::vector<std::string> warnings() const;  // one line per skipped file or lock failure
  double bytes_per_second() const { return seconds > 0 ? static_cast<double>(bytes) / seconds : 0; }
};

/// Compares a recorded identity with the file now: nullopt-like empty string if
/// equal, else what changed ("size 1234 -> 1300"). Inode, size and mtime are
/// compared; the device number is not (it may differ across reboots).
std::string identity_change(const FileIdentity& recorded, const FileIdentity& now);

/// Loads the manifest's ranges. Never throws for a single file's problem; each
/// file's status says what happened.
ApplyResult apply_manifest(const Manifest& manifest, const ApplyOptions& options);

}  // namespace coldstart::pagecache
