// Placing the loader-done and main uprobes.
//
// Facts relied on:
//  - A uprobe is registered on an inode and an offset; the kernel then puts
//    a breakpoint into every mapping of that inode, existing ones included,
//    for every process of the host (pid -1). perf_event_open resolves the
//    path with kern_path() and, for overlayfs, d_real_inode(): the inode the
//    process actually maps. "/proc/PID/exe" is a magic link to the file the
//    process runs, whatever mount namespace it lives in; opened once, the
//    file stays reachable as /proc/self/fd/N after the process is gone.
//  - The kernel's dev_t is MAJOR << 20 | MINOR; stat's st_dev is that pair
//    re-encoded (makedev).
//  - The ELF entry point is where ld.so jumps once it has loaded and
//    relocated everything (for a static binary, right after exec): the end
//    of the loader phase. main is found in .symtab/.dynsym, in Go's pclntab
//    (main.main, kept by stripped Go builds), or as the first argument of
//    glibc's _start to __libc_start_main (stripped C/C++ programs).
// Cost: the ELF file is read once per executable (then malloc_trim: the
// agent's memory stays that of its own state, not of the largest file read); each pair costs two
// breakpoint hits per exec of that binary anywhere on the host (a few µs),
// which is why the set is bounded.
#include "watch/phase_probes.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "core/error.h"
#include "core/unique_fd.h"
#include "elf/elf.h"

namespace coldstart::watch {

std::optional<PhaseOffsets> phase_offsets(const std::string& path) {
  try {
    elf::ElfInfo info = elf::read_elf(path);
    if (!info.entry_file_offset) return std::nullopt;
    PhaseOffsets o;
    o.entry = *info.entry_file_offset;
    std::optional<elf::SymbolLocation> main;
    if (info.is_go && (main = elf::find_go_function(path, "main.main"))) {
      o.main_symbol = "main.main";
    } else if ((main = elf::find_symbol(path, "main"))) {
      o.main_symbol = "main";
    } else if (auto call = elf::find_libc_start_call(path)) {
      main = call->main;
      o.main_symbol = "__libc_start_main argument";
    }
    if (main) o.main = main->file_offset;
    return o;
  } catch (const UserError&) {
    return std::nullopt;
  }
}

PhaseProbeSet::PhaseProbeSet(size_t capacity, Attach attach, Detach detach)
    : capacity_(capacity), attach_(std::move(attach)), detach_(std::move(detach)) {}

PhaseProbeSet::~PhaseProbeSet() {
  for (Entry& e : lru_) release(e);
}

void PhaseProbeSet::release(Entry& e) {
  if (e.entry != nullptr) detach_(e.entry);
  if (e.main != nullptr) detach_(e.main);
  e.entry = e.main = nullptr;
}

PhaseProbes PhaseProbeSet::ensure(pid_t pid, uint32_t dev, uint64_t ino, const std::string& exec_path,
                                  std::string& main_symbol) {
  Inode key{makedev(dev >> 20, dev & 0xfffff), ino};
  if (auto it = by_inode_.find(key); it != by_inode_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    main_symbol = it->second->main_symbol;
    return PhaseProbes::kInPlace;
  }
  if (capacity_ == 0 || unusable_.contains(key)) return PhaseProbes::kNone;
  // The file is opened once and then named through the agent's own fd: the
  // process may exit while a large binary is read (a Go pclntab takes tens
  // of ms), and /proc/PID/exe of a process that is gone opens nothing — the
  // reads and the attach that follow must all see the same file.
  auto open_same_file = [&](const std::string& p) {
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || st.st_dev != key.first || st.st_ino != key.second) return UniqueFd();
    return fd;
  };
  UniqueFd file = open_same_file("/proc/" + std::to_string(pid) + "/exe");
  if (!file && !exec_path.empty() && exec_path.front() == '/') file = open_same_file(exec_path);
  if (!file) return PhaseProbes::kNone;
  std::string path = "/proc/self/fd/" + std::to_string(file.get());
  std::optional<PhaseOffsets> offsets = phase_offsets(path);
  // Reading a big binary's tables (a Go pclntab of 50 MB binaries: megabytes
  // of names) leaves malloc's heap at its high-water mark; give it back, or
  // the agent's RSS keeps the peak of the largest executable it ever read.
  ::malloc_trim(0);
  if (!offsets) {
    if (unusable_.size() >= capacity_) unusable_.clear();
    unusable_.insert(key);
    return PhaseProbes::kNone;
  }
  Entry e;
  e.inode = key;
  e.entry = attach_(path, offsets->entry, false);
  if (offsets->main) e.main = attach_(path, *offsets->main, true);
  if (e.entry == nullptr && e.main == nullptr) return PhaseProbes::kNone;
  e.main_symbol = e.main != nullptr ? offsets->main_symbol : "";
  main_symbol = e.main_symbol;
  lru_.push_front(std::move(e));
  by_inode_[key] = lru_.begin();
  while (lru_.size() > capacity_) {
    release(lru_.back());
    by_inode_.erase(lru_.back().inode);
    lru_.pop_back();
    ++evicted_;
  }
  return PhaseProbes::kLate;
}

}  // namespace coldstart::watch
