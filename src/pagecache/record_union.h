// Several recordings of the same start merged into one manifest (prewarm
// record --runs N): one start is one sample of a set that varies (which
// goroutine ran first, what the allocator touched), so the union of a few
// starts is what the next start needs, and the intersection shows how stable
// the set is.
#pragma once

#include <cstdint>
#include <vector>

#include "pagecache/manifest.h"

namespace coldstart::pagecache {

/// How alike N recordings were.
struct Stability {
  int runs = 0;
  uint64_t pages_in_every = 0;  ///< pages every recording had
  uint64_t pages_in_some = 0;   ///< pages at least one had (the union: what is kept)
  std::vector<uint64_t> pages_per_run;
};

/// The union of `runs` (same page size; a file's identity from its latest
/// recording) and the stability figures. Requires: !runs.empty().
Manifest union_of(const std::vector<Manifest>& runs, Stability& stability);

}  // namespace coldstart::pagecache
