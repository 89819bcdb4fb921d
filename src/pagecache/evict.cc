// Eviction by posix_fadvise(POSIX_FADV_DONTNEED).
//
// Kernel facts relied on (mm/fadvise.c): DONTNEED first starts writeback of
// dirty pages without waiting (WB_SYNC_NONE), then invalidate_mapping_pages()
// drops every clean, unlocked, unmapped page of the range. It cannot drop pages
// that are mapped into a process (a running service's text, libc used by every
// process), locked, dirty or under writeback, and it succeeds silently when it
// drops nothing. So the only honest report is residency measured before and
// after; callers show "resident_after" as what stayed. The file is opened
// read-only: eviction needs no write access and never modifies the file.
#include "pagecache/evict.h"

#include <fcntl.h>

#include <set>

#include "core/error.h"
#include "pagecache/residency.h"

namespace coldstart::pagecache {

EvictOutcome evict_file(const std::string& path) {
  EvictOutcome out;
  out.path = path;
  auto file = open_regular(path);
  if (!file) {
    out.error = file.error();
    return out;
  }
  auto before = residency(*file, path);
  if (!before) {
    out.error = before.error();
    return out;
  }
  out.total_pages = before->total_pages;
  out.resident_before = before->resident_pages;
  if (int rc = ::posix_fadvise(file->fd.get(), 0, 0, POSIX_FADV_DONTNEED); rc != 0) {
    out.error = sys_message("posix_fadvise(DONTNEED)", path, rc);
    out.resident_after = out.resident_before;
    return out;
  }
  auto after = residency(*file, path);
  out.resident_after = after ? after->resident_pages : out.resident_before;
  return out;
}

EvictReport evict_files(std::span<const std::string> paths) {
  EvictReport report;
  std::set<std::string> seen;
  for (const std::string& path : paths) {
    if (!seen.insert(path).second) continue;
    EvictOutcome o = evict_file(path);
    report.total_pages += o.total_pages;
    report.resident_before += o.resident_before;
    report.resident_after += o.resident_after;
    report.files.push_back(std::move(o));
  }
  return report;
}

}  // namespace coldstart::pagecache
