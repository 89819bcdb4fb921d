// Page-cache residency of files: which pages of a file are in the page cache
// right now (mincore over a read-only mapping), as counts and as coalesced
// page ranges. Shared by prewarm (status/record), bench --cold and run.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"
#include "pagecache/page_ranges.h"

namespace coldstart::pagecache {

/// The machine's page size (sysconf(_SC_PAGESIZE)), the unit of every range here.
uint64_t page_size();

/// Identity of a file as recorded in a manifest and compared on apply.
struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

/// An open regular file, opened read-only without following the caller into
/// FIFOs, devices or sockets (those are refused with a one-line reason).
struct OpenedFile {
  UniqueFd fd;
  FileIdentity identity;
};

/// Opens `path` for reading page-cache state: O_RDONLY|O_NONBLOCK (a FIFO never
/// blocks the open), O_NOATIME where permitted (we never write, not even atime).
/// Fails for a missing path, a directory, a device, FIFO or socket.
Result<OpenedFile> open_regular(const std::string& path);

/// Residency of one file.
struct FileResidency {
  std::string path;
  FileIdentity identity;
  uint64_t total_pages = 0;
  uint64_t resident_pages = 0;
  std::vector<PageRange> ranges;  // resident pages, coalesced
  /// False when mincore() cannot see this file's page cache: since Linux 5.0
  /// it answers "resident" for every page of a file the caller neither owns
  /// nor could open for writing (an unprivileged user and /usr/lib). The
  /// counts are then meaningless and printers say "unknown".
  bool exact = true;
};

/// mincore() over a PROT_READ shared mapping of the open file. Mapping does not
/// fault pages in, so measuring does not change what it measures.
Result<FileResidency> residency(const OpenedFile& file, const std::string& path);
Result<FileResidency> residency(const std::string& path);

}  // namespace coldstart::pagecache
