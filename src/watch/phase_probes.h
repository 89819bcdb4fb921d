// The loader-done and main probes of `coldstart watch`: one pair of uprobes
// per distinct executable that a start ran, placed by user space when the
// start is first seen (so the first start of a binary usually misses them;
// the next starts of it on the node do not), and kept for at most a fixed
// number of executables.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "watch/start_tracker.h"

namespace coldstart::watch {

/// Where the two uprobes of an executable go (file offsets, what a uprobe takes).
struct PhaseOffsets {
  uint64_t entry = 0;            ///< e_entry: the loader jumps there when it is done
  std::optional<uint64_t> main;  ///< main, or main.main for Go
  std::string main_symbol;       ///< "main", "main.main", "__libc_start_main argument"
};

/// Reads them from the ELF file at `path` (elf/: symbol tables, Go's pclntab,
/// glibc's entry code). nullopt for a file the elf layer does not read (not
/// ELF, not x86-64, damaged) or without an entry point in its file.
std::optional<PhaseOffsets> phase_offsets(const std::string& path);

/// PhaseProbeSet is what the agent keeps attached, driven by the tracker's
/// executed() calls. Executables are identified by (device, inode), as the
/// kernel records them at exec, so one binary started from many paths or
/// mount namespaces has one pair. Least recently started executables are
/// detached beyond `capacity`; attaching goes through a seam so tests can
/// count attachments without BPF.
class PhaseProbeSet {
 public:
  /// attach(path, offset, is_main) -> a handle, or nullptr on failure; detach(handle).
  using Attach = std::function<void*(const std::string& path, uint64_t offset, bool is_main)>;
  using Detach = std::function<void(void*)>;
  PhaseProbeSet(size_t capacity, Attach attach, Detach detach);
  ~PhaseProbeSet();
  PhaseProbeSet(const PhaseProbeSet&) = delete;
  PhaseProbeSet& operator=(const PhaseProbeSet&) = delete;

  /// For a start whose root `pid` just exec'd the executable (dev, ino),
  /// named `exec_path` by its execve: ensures the pair is attached. The file
  /// is opened as /proc/PID/exe (which reaches it in any mount namespace) if
  /// that still is the same inode, else as `exec_path` if that is.
  PhaseProbes ensure(pid_t pid, uint32_t dev, uint64_t ino, const std::string& exec_path,
                     std::string& main_symbol);

  size_t attached() const { return by_inode_.size(); }
  uint64_t evicted() const { return evicted_; }

 private:
  using Inode = std::pair<uint64_t, uint64_t>;  // (userspace dev_t, inode)
  struct Entry {
    Inode inode;
    void* entry = nullptr;
    void* main = nullptr;
    std::string main_symbol;
  };
  void release(Entry& e);

  size_t capacity_;
  Attach attach_;
  Detach detach_;
  std::list<Entry> lru_;  // most recently started first
  std::map<Inode, std::list<Entry>::iterator> by_inode_;
  std::set<Inode> unusable_;  // no offsets: not tried again (bounded like lru_)
  uint64_t evicted_ = 0;
};

}  // namespace coldstart::watch
