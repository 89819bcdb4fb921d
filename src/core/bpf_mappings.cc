#include "core/bpf_mappings.h"

#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace coldstart {

int keep_bpf_maps_out_of_forks() {
  std::ifstream maps("/proc/self/maps");
  int marked = 0;
  // "start-end perms offset dev inode   name"; the kernel names a map's
  // mapping after its anonymous inode.
  for (std::string line; std::getline(maps, line);) {
    if (line.find("anon_inode:bpf-map") == std::string::npos) continue;
    unsigned long start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) != 2 || end <= start) continue;
    if (::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTFORK) == 0) ++marked;
  }
  return marked;
}

}  // namespace coldstart
