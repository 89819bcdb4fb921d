// Helpers of the page-cache suites: files with clean pages, and waiting for
// asynchronous readahead to land.
#pragma once

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/unique_fd.h"
#include "pagecache/residency.h"

namespace coldstart::pagecache {

/// Skips a test whose directory is on tmpfs/ramfs, where pages cannot be evicted.
#define SKIP_IF_NO_PAGE_CACHE(dir)                                                                      \
  do {                                                                                                  \
    struct statfs sfs {};                                                                               \
    if (::statfs((dir).c_str(), &sfs) == 0 && (sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC)) \
      GTEST_SKIP() << (dir) << " is on tmpfs: its pages cannot be evicted";                             \
  } while (0)

/// Writes `pages` pages of non-zero bytes and fsyncs them (clean, evictable).
inline std::string write_file(const std::string& path, uint64_t pages) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) std::abort();
  std::vector<char> buf(page_size());
  for (uint64_t i = 0; i < pages; ++i) {
    for (size_t j = 0; j < buf.size(); ++j) buf[j] = static_cast<char>('a' + (i + j) % 26);
    if (::write(fd.get(), buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) std::abort();
  }
  if (::fsync(fd.get()) != 0) std::abort();
  return path;
}

/// Polls residency until at least `pages` are resident or 5 s passed.
inline FileResidency wait_for_resident(const std::string& path, uint64_t pages) {
  FileResidency r;
  for (int i = 0; i < 500; ++i) {
    auto now = residency(path);
    if (!now) std::abort();
    r = *now;
    if (r.resident_pages >= pages) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return r;
}

}  // namespace coldstart::pagecache
