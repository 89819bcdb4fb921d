// Loading page ranges of files into the page cache (prewarm apply) and
// keeping them there (apply --lock).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "pagecache/residency.h"

namespace coldstart::pagecache {

/// How ranges are brought in. All are read-only.
enum class LoadMethod {
  kWillneed,  // posix_fadvise(WILLNEED): queues readahead, returns before the I/O completes
  kPopulate,  // WILLNEED for every range first, then mmap(MAP_POPULATE) to wait for each
  kRead,      // pread() into a scratch buffer: synchronous, one request at a time per file
};

std::string_view to_string(LoadMethod m);
/// "willneed", "populate", "read"; nullopt-like failure as Result.
Result<LoadMethod> parse_load_method(std::string_view text);

/// Brings `ranges` (pages of page_size() bytes, clipped to the file's size) of
/// an open file into the page cache. Returns the bytes requested.
/// Requires: ranges normalized.
Result<uint64_t> load_ranges(const OpenedFile& file, const std::string& path,
                             std::span<const PageRange> ranges, LoadMethod method);

/// Mappings of file ranges locked with mlock(2) so the kernel cannot evict
/// them; apply --lock holds one for as long as it runs. Unmaps on destruction.
class LockedRanges {
 public:
  LockedRanges() = default;
  LockedRanges(LockedRanges&&) noexcept;
  LockedRanges& operator=(LockedRanges&&) noexcept;
  LockedRanges(const LockedRanges&) = delete;
  LockedRanges& operator=(const LockedRanges&) = delete;
  ~LockedRanges();

  /// Maps and mlocks `ranges` of the file. On mlock failure (no CAP_IPC_LOCK
  /// and RLIMIT_MEMLOCK too small) the ranges stay mapped but unlocked and the
  /// reason is returned; the caller warns and goes on.
  Result<void> add(const OpenedFile& file, const std::string& path, std::span<const PageRange> ranges);

  uint64_t locked_bytes() const { return locked_bytes_; }
  uint64_t mapped_bytes() const { return mapped_bytes_; }

 private:
  struct Region {
    void* addr;
    size_t len;
  };
  void release();
  std::vector<Region> regions_;
  uint64_t locked_bytes_ = 0;
  uint64_t mapped_bytes_ = 0;
};

}  // namespace coldstart::pagecache
