// Applying a manifest.
//
// Files are handed to a small pool of threads (one file at a time per thread,
// min(files, 8) threads): with `populate`, every thread first queues all of its
// file's ranges with WILLNEED and then waits for them, so the device sees
// several files' large requests at once instead of one synchronous page fault
// after another, which is what a cold start does. A file is loaded only if its
// inode, size and mtime still match the recording: a rebuilt binary has other
// pages, and loading stale offsets would waste I/O on the wrong data. Files are
// opened read-only with O_NOATIME where allowed; nothing is ever written.
#include "pagecache/apply.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <optional>
#include <thread>

#include "core/clock.h"

namespace coldstart::pagecache {
namespace {

constexpr unsigned kMaxThreads = 8;

/// Loads one manifest file; keeps the open file in `keep` when locking follows.
FileApplied apply_one(const ManifestFile& mf, uint64_t manifest_page_size, LoadMethod method,
                      std::optional<OpenedFile>* keep) {
  FileApplied out;
  out.path = mf.path;
  auto file = open_regular(mf.path);
  if (!file) {
    struct stat st {};
    if (::stat(mf.path.c_str(), &st) != 0 && errno == ENOENT) {
      out.status = FileApplied::Status::kMissing;
      out.message = mf.path + ": missing, skipped";
    } else {
      out.status = S_ISREG(st.st_mode) ? FileApplied::Status::kFailed : FileApplied::Status::kRefused;
      out.message = file.error();
    }
    return out;
  }
  if (std::string change = identity_change(mf.identity, file->identity); !change.empty()) {
    out.status = FileApplied::Status::kChanged;
    out.message = fmt::format("{}: changed since recording ({}), skipped", mf.path, change);
    return out;
  }
  std::vector<PageRange> ranges = local_ranges(mf, manifest_page_size);
  auto bytes = load_ranges(*file, mf.path, ranges, method);
  if (!bytes) {
    out.message = bytes.error();
    return out;
  }
  out.status = FileApplied::Status::kLoaded;
  out.pages = total_pages(ranges);
  out.bytes = *bytes;
  if (keep != nullptr) *keep = std::move(file).value();
  return out;
}

}  // namespace

std::string_view to_string(FileApplied::Status s) {
  switch (s) {
    case FileApplied::Status::kLoaded:
      return "loaded";
    case FileApplied::Status::kChanged:
      return "changed";
    case FileApplied::Status::kMissing:
      return "missing";
    case FileApplied::Status::kRefused:
      return "refused";
    case FileApplied::Status::kFailed:
      return "failed";
  }
  return "?";
}

std::vector<std::string> ApplyResult::warnings() const {
  std::vector<std::string> out;
  for (const FileApplied& f : files)
    if (!f.message.empty()) out.push_back(f.message);
  return out;
}

std::string identity_change(const FileIdentity& recorded, const FileIdentity& now) {
  std::vector<std::string> parts;
  if (recorded.inode != now.inode) parts.push_back(fmt::format("inode {} -> {}", recorded.inode, now.inode));
  if (recorded.size != now.size) parts.push_back(fmt::format("size {} -> {}", recorded.size, now.size));
  if (recorded.mtime_ns != now.mtime_ns) parts.push_back("mtime changed");
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out;
}

ApplyResult apply_manifest(const Manifest& manifest, const ApplyOptions& options) {
  ApplyResult result;
  result.method = options.method;
  const size_t n = manifest.files.size();
  result.files.resize(n);
  std::vector<std::optional<OpenedFile>> kept(options.lock ? n : 0);
  unsigned threads =
      options.threads ? options.threads : std::min<unsigned>(kMaxThreads, static_cast<unsigned>(n));
  threads = std::max(1U, std::min<unsigned>(threads, static_cast<unsigned>(std::max<size_t>(n, 1))));

  int64_t t0 = monotonic_ns();
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++)
      result.files[i] =
          apply_one(manifest.files[i], manifest.page_size, options.method, options.lock ? &kept[i] : nullptr);
  };
  {
    std::vector<std::jthread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
  }  // jthreads join here
  result.seconds = ns_to_s(monotonic_ns() - t0);

  for (size_t i = 0; i < n; ++i) {
    FileApplied& f = result.files[i];
    if (f.status != FileApplied::Status::kLoaded) continue;
    result.pages += f.pages;
    result.bytes += f.bytes;
    ++result.files_loaded;
    if (options.lock && kept[i]) {
      auto locked = result.locked.add(*kept[i], f.path, local_ranges(manifest.files[i], manifest.page_size));
      if (!locked) f.message = locked.error();
    }
  }
  return result;
}

}  // namespace coldstart::pagecache
