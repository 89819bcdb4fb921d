// What a running process tree has used of its files: the pages it has mapped
// and faulted in (from /proc/PID/maps + /proc/PID/pagemap) and the regular
// files it holds open. prewarm record turns this into a manifest.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "pagecache/residency.h"

namespace coldstart::pagecache {

/// One line of /proc/PID/maps that maps a file.
struct FileMapping {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t offset = 0;  // file offset of `start`
  uint64_t inode = 0;
  std::string path;
};

/// Parses /proc/PID/maps text, keeping file-backed lines only (inode != 0,
/// absolute path, not "(deleted)").
std::vector<FileMapping> parse_maps(std::string_view text);

/// Pages of files a set of processes touched, keyed by path.
struct TouchedFiles {
  std::map<std::string, std::vector<PageRange>> mapped;  // pages present in the processes' page tables
  std::set<std::string> open_files;  // regular files open via fds (not necessarily mapped)
};

/// Reads maps, pagemap and fds of each pid; a pid that vanished is skipped.
/// A page counts as touched when its PTE is present or swapped (pagemap bits
/// 63/62), whether it is still the file's page or a private copy of it.
/// Fails only when pagemap cannot be read at all (permissions).
Result<TouchedFiles> touched_files(std::span<const pid_t> pids);

/// Regular files a process has mapped or open, without page detail (for
/// discovering which files to evict before a recording launch).
std::set<std::string> files_in_use(std::span<const pid_t> pids);

}  // namespace coldstart::pagecache
