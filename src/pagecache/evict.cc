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

namespace {

EvictOutcome evict_opened(Result<OpenedFile>& file, const std::string& path) {
  EvictOutcome out;
  out.path = path;
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
  out.residency_known = before->exact;
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

// Calls fn(path, opened) once per distinct path and once per file: one file,
// one count: /lib/x86_64-linux-gnu/libc.so.6 (from the ELF's resolution) and
// /usr/lib/x86_64-linux-gnu/libc.so.6 (from a manifest) are the same inode
// where /lib is a symlink to usr/lib. A path that cannot be opened is passed
// on (once) with its error.
template <typename Fn>
void for_each_distinct_file(std::span<const std::string> paths, Fn fn) {
  std::set<std::pair<uint64_t, uint64_t>> seen;
  std::set<std::string> named;
  for (const std::string& path : paths) {
    if (!named.insert(path).second) continue;
    auto file = open_regular(path);
    if (file && !seen.insert({file->identity.device, file->identity.inode}).second) continue;
    fn(path, file);
  }
}

}  // namespace

EvictOutcome evict_file(const std::string& path) {
  auto file = open_regular(path);
  return evict_opened(file, path);
}

FilesResidency files_residency(std::span<const std::string> paths) {
  FilesResidency out;
  for_each_distinct_file(paths, [&](const std::string& path, Result<OpenedFile>& file) {
    if (!file) return;
    auto r = residency(*file, path);
    if (!r) return;
    out.total_pages += r->total_pages;
    out.resident_pages += r->resident_pages;
    out.known = out.known && r->exact;
  });
  return out;
}

EvictReport evict_files(std::span<const std::string> paths) {
  EvictReport report;
  for_each_distinct_file(paths, [&](const std::string& path, Result<OpenedFile>& file) {
    EvictOutcome o = evict_opened(file, path);
    report.total_pages += o.total_pages;
    report.resident_before += o.resident_before;
    report.resident_after += o.resident_after;
    report.residency_known = report.residency_known && o.residency_known;
    if (!o.ok()) ++report.failed;
    report.files.push_back(std::move(o));
  });
  return report;
}

}  // namespace coldstart::pagecache
