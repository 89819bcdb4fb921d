// Residency by mincore(2).
//
// The file is mapped PROT_READ, MAP_SHARED in windows of at most 1 GiB and
// mincore() reports, per page of the window, whether the page is in the page
// cache. Creating a mapping does not fault anything in (no MAP_POPULATE), and
// mincore() itself never triggers I/O, so the measurement leaves the cache as
// it found it. Kernel facts relied on: since Linux 5.0 mincore() on a file
// mapping reports page-cache residency only for files the caller could open
// for writing or owns (else it says every page is resident); FileResidency::exact
// tells which, so an unprivileged caller prints "unknown", never "100%".
// Pages past EOF in the last page are not separate pages: total = ceil(size/page).
#include "pagecache/residency.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "core/error.h"

namespace coldstart::pagecache {
namespace {

constexpr uint64_t kWindowBytes = uint64_t{1} << 30;

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// mm/mincore.c can_do_mincore(): the owner, a capable caller, or one that
// could open the file for writing sees the page cache; anyone else is told
// every page is resident.
bool mincore_sees(const OpenedFile& file) {
  if (::geteuid() == 0) return true;
  struct stat st {};
  if (::fstat(file.fd.get(), &st) == 0 && st.st_uid == ::geteuid()) return true;
  char proc[64];
  std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", file.fd.get());
  return ::faccessat(AT_FDCWD, proc, W_OK, AT_EACCESS) == 0;
}

}  // namespace

uint64_t page_size() {
  static const uint64_t size = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

Result<OpenedFile> open_regular(const std::string& path) {
  // stat first so a socket or device is refused with its kind, not with the
  // errno open() happens to give for it (ENXIO for a socket).
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return unexpected(sys_message("stat", path, errno));
  if (!S_ISREG(st.st_mode)) return unexpected(path + ": " + kind_of(st.st_mode) + ", refused");
  int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOATIME;
  int fd = ::open(path.c_str(), flags);
  if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), flags & ~O_NOATIME);  // not the owner
  if (fd < 0) return unexpected(sys_message("open", path, errno));
  OpenedFile file{UniqueFd(fd), {}};
  // fstat again: the path may have been replaced between stat and open.
  if (::fstat(file.fd.get(), &st) != 0) return unexpected(sys_message("fstat", path, errno));
  if (!S_ISREG(st.st_mode)) return unexpected(path + ": " + kind_of(st.st_mode) + ", refused");
  file.identity = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                   static_cast<uint64_t>(st.st_size),
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  return file;
}

Result<FileResidency> residency(const OpenedFile& file, const std::string& path) {
  FileResidency out;
  out.path = path;
  out.identity = file.identity;
  const uint64_t page = page_size();
  const uint64_t size = file.identity.size;
  out.total_pages = (size + page - 1) / page;
  std::vector<unsigned char> bitmap;
  for (uint64_t offset = 0; offset < size; offset += kWindowBytes) {
    uint64_t len = std::min(kWindowBytes, size - offset);
    void* p = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, file.fd.get(), static_cast<off_t>(offset));
    if (p == MAP_FAILED) return unexpected(sys_message("mmap", path, errno));
    size_t pages = (len + page - 1) / page;
    size_t base = bitmap.size();
    bitmap.resize(base + pages);
    int rc = ::mincore(p, len, bitmap.data() + base);
    int err = errno;
    ::munmap(p, len);
    if (rc != 0) return unexpected(sys_message("mincore", path, err));
  }
  out.exact = mincore_sees(file);
  out.ranges = ranges_from_bitmap(bitmap);
  out.resident_pages = total_pages(out.ranges);
  return out;
}

Result<FileResidency> residency(const std::string& path) {
  auto file = open_regular(path);
  if (!file) return unexpected(file.error());
  return residency(*file, path);
}

}  // namespace coldstart::pagecache
