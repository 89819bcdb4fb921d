// The page tracer of prewarm record: a small BPF program (bpf/page_trace.bpf.c)
// that sees, for one launch's cgroup, which file pages its start faulted,
// which byte ranges it read() and which pages it brought into the page cache
// (filemap:mm_filemap_add_to_page_cache), whether or not anything still maps
// them at the ready instant. The page-table record (working_set.h) misses
// exactly those: pages of a child that exited, of a region unmapped again, of
// a file read and closed. Files are named by (device, inode) in the kernel;
// traced_by_path() maps them back to the paths the start opened.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "pagecache/page_ranges.h"

namespace coldstart::pagecache {

/// One record of the tracer, `device` already in st_dev's encoding.
struct PageEvent {
  enum class Kind { kAdded, kFaulted, kFaultAround, kRead };
  Kind kind = Kind::kAdded;
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t first = 0;  ///< page index
  uint64_t count = 0;  ///< pages
};

/// What one traced start used of one file (in the kernel's page size).
struct TracedFile {
  std::vector<PageRange> added;  ///< brought into the cache during the start (readahead included)
  /// Needed: faulted, read, or mapped by fault-around among the pages the
  /// start added (fault-around maps only cached pages; the ones cached before
  /// the start were evicted, or mapped by others and so in no need of loading).
  std::vector<PageRange> used;
};

using FileKey = std::pair<uint64_t, uint64_t>;  ///< (st_dev, st_ino)

/// Folds records into per-file page sets.
std::map<FileKey, TracedFile> fold_page_events(std::span<const PageEvent> events);

/// The folded sets of the files among `paths` (stat'ed now), by path; a file
/// reached by two paths appears under the first. Records of files not in
/// `paths` are counted in `unnamed_pages` (their `used` pages).
std::map<std::string, TracedFile> traced_by_path(const std::map<FileKey, TracedFile>& traced,
                                                 std::span<const std::string> paths, uint64_t& unnamed_pages);

/// A loaded, attached tracer for one cgroup. Destroying it detaches and
/// unloads everything.
class PageTrace {
 public:
  /// Loads and attaches the program for the v2 cgroup `cgroup_id` (the
  /// launch's, taken while it is paused before exec). Fails with the reason
  /// when BPF cannot run here (no cgroup, no privilege, no BTF, a kernel
  /// without these functions).
  static Result<std::unique_ptr<PageTrace>> start(uint64_t cgroup_id);
  ~PageTrace();
  PageTrace(const PageTrace&) = delete;
  PageTrace& operator=(const PageTrace&) = delete;

  /// Stops recording (at the ready instant): later events are ignored.
  void stop();
  /// Drains what was recorded; `dropped` counts records lost to a full buffer.
  std::map<FileKey, TracedFile> collect(uint64_t& dropped);

 private:
  struct Impl;
  explicit PageTrace(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coldstart::pagecache
