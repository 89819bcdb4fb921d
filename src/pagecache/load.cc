// Loading ranges into the page cache.
//
// Three read-only ways, chosen by measurement (bench/prewarm_methods, numbers
// in docs/prewarm.md):
//  * willneed: posix_fadvise(POSIX_FADV_WILLNEED) per range (in 128 KiB
//    requests: see kWillneedChunk). The kernel
//    (force_page_cache_ra) allocates the pages and submits the reads in 2 MiB
//    chunks and returns without waiting for them, so many requests are in
//    flight at once: the storage sees a deep queue of large requests.
//  * populate: willneed for every range first, then MADV_POPULATE_READ (Linux
//    5.14) over a shared read-only mapping of the file, which faults each page
//    in and therefore waits until the queued reads have completed. The time
//    measured is the time until the pages are really resident. Older kernels
//    answer EINVAL; we then touch one byte per page instead.
//  * read: pread() into a scratch buffer, 1 MiB at a time, synchronous.
// Ranges beyond the current end of file are clipped, so a file that shrank
// cannot make us fault past EOF (SIGBUS).
#include "pagecache/load.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "core/error.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

namespace coldstart::pagecache {
namespace {

/// [offset, offset+len) in bytes of a page range, clipped to the file size.
struct ByteRange {
  uint64_t offset;
  uint64_t len;
};

std::vector<ByteRange> clip(std::span<const PageRange> ranges, uint64_t size) {
  const uint64_t page = page_size();
  std::vector<ByteRange> out;
  for (const PageRange& r : ranges) {
    if (r.first >= (size + page - 1) / page) break;
    uint64_t begin = r.first * page;
    uint64_t end = std::min(size, r.end() > UINT64_MAX / page ? size : r.end() * page);
    if (end > begin) out.push_back({begin, end - begin});
  }
  return out;
}

/// A whole-file PROT_READ shared mapping, unmapped on scope exit.
struct FileMap {
  void* addr = MAP_FAILED;
  size_t len = 0;
  ~FileMap() {
    if (addr != MAP_FAILED) ::munmap(addr, len);
  }
};

Result<void> populate(const FileMap& map, const ByteRange& r, const std::string& path) {
  char* base = static_cast<char*>(map.addr) + r.offset;
  if (::madvise(base, r.len, MADV_POPULATE_READ) == 0) return {};
  if (errno != EINVAL) return unexpected(sys_message("madvise(POPULATE_READ)", path, errno));
  volatile char sink = 0;
  for (uint64_t off = 0; off < r.len; off += page_size()) sink = sink + base[off];
  return {};
}

/// WILLNEED is asked for at most this much at a time: the kernel
/// (force_page_cache_ra) silently cuts one request to max(the device's
/// read_ahead_kb, its max I/O size) and reads nothing beyond. An uncut range
/// of a gap-filled manifest (caddy's .text, 17 MiB) then left the rest to
/// populate's page faults, each a synchronous mmap read-around of up to
/// read_ahead_kb around it, gaps included: more bytes, one fault at a time.
/// 128 KiB is the smallest default read_ahead_kb, so no device cuts it.
constexpr uint64_t kWillneedChunk = 128 << 10;

Result<void> willneed(int fd, const std::vector<ByteRange>& ranges, const std::string& path) {
  for (const ByteRange& r : ranges) {
    for (uint64_t off = 0; off < r.len; off += kWillneedChunk) {
      uint64_t len = std::min(kWillneedChunk, r.len - off);
      int rc = ::posix_fadvise(fd, static_cast<off_t>(r.offset + off), static_cast<off_t>(len), POSIX_FADV_WILLNEED);
      if (rc != 0) return unexpected(sys_message("posix_fadvise(WILLNEED)", path, rc));
    }
  }
  return {};
}

Result<void> read_ranges(int fd, const std::vector<ByteRange>& ranges, const std::string& path) {
  std::vector<char> buf(1 << 20);
  for (const ByteRange& r : ranges) {
    uint64_t done = 0;
    while (done < r.len) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), r.len - done));
      ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(r.offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return unexpected(sys_message("pread", path, errno));
      if (n == 0) break;  // shrank under us
      done += static_cast<uint64_t>(n);
    }
  }
  return {};
}

}  // namespace

std::string_view to_string(LoadMethod m) {
  switch (m) {
    case LoadMethod::kWillneed:
      return "willneed";
    case LoadMethod::kPopulate:
      return "populate";
    case LoadMethod::kRead:
      return "read";
  }
  return "?";
}

Result<LoadMethod> parse_load_method(std::string_view text) {
  for (LoadMethod m : {LoadMethod::kWillneed, LoadMethod::kPopulate, LoadMethod::kRead})
    if (text == to_string(m)) return m;
  return unexpected("unknown load method '" + std::string(text) + "' (willneed, populate, read)");
}

Result<uint64_t> load_ranges(const OpenedFile& file, const std::string& path,
                             std::span<const PageRange> ranges, LoadMethod method) {
  std::vector<ByteRange> bytes = clip(ranges, file.identity.size);
  uint64_t total = 0;
  for (const ByteRange& r : bytes) total += r.len;
  if (bytes.empty()) return total;
  int fd = file.fd.get();
  if (method == LoadMethod::kRead) {
    if (auto r = read_ranges(fd, bytes, path); !r) return unexpected(r.error());
    return total;
  }
  if (auto r = willneed(fd, bytes, path); !r) return unexpected(r.error());
  if (method == LoadMethod::kWillneed) return total;
  FileMap map;
  map.len = static_cast<size_t>(file.identity.size);
  map.addr = ::mmap(nullptr, map.len, PROT_READ, MAP_SHARED, fd, 0);
  if (map.addr == MAP_FAILED) return unexpected(sys_message("mmap", path, errno));
  for (const ByteRange& r : bytes)
    if (auto ok = populate(map, r, path); !ok) return unexpected(ok.error());
  return total;
}

LockedRanges::LockedRanges(LockedRanges&& o) noexcept
    : regions_(std::exchange(o.regions_, {})),
      locked_bytes_(std::exchange(o.locked_bytes_, 0)),
      mapped_bytes_(std::exchange(o.mapped_bytes_, 0)) {}

LockedRanges& LockedRanges::operator=(LockedRanges&& o) noexcept {
  if (this != &o) {
    release();
    regions_ = std::exchange(o.regions_, {});
    locked_bytes_ = std::exchange(o.locked_bytes_, 0);
    mapped_bytes_ = std::exchange(o.mapped_bytes_, 0);
  }
  return *this;
}

LockedRanges::~LockedRanges() { release(); }

void LockedRanges::release() {
  for (const Region& r : regions_) ::munmap(r.addr, r.len);  // munmap also unlocks
  regions_.clear();
  locked_bytes_ = mapped_bytes_ = 0;
}

Result<void> LockedRanges::add(const OpenedFile& file, const std::string& path,
                               std::span<const PageRange> ranges) {
  std::vector<ByteRange> bytes = clip(ranges, file.identity.size);
  if (bytes.empty()) return {};
  size_t len = static_cast<size_t>(file.identity.size);
  void* addr = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, file.fd.get(), 0);
  if (addr == MAP_FAILED) return unexpected(sys_message("mmap", path, errno));
  regions_.push_back({addr, len});
  for (const ByteRange& r : bytes) {
    mapped_bytes_ += r.len;
    if (::mlock(static_cast<char*>(addr) + r.offset, r.len) != 0) {
      return unexpected(sys_message("mlock", path, errno) +
                        " (needs CAP_IPC_LOCK or a larger RLIMIT_MEMLOCK; pages stay mapped, not locked)");
    }
    locked_bytes_ += r.len;
  }
  return {};
}

}  // namespace coldstart::pagecache
