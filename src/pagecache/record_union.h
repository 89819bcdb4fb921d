// Several recordings of the same start merged into one manifest (prewarm
// record --runs N): one start is one sample of a set that varies (which
// goroutine ran first, what the allocator touched), so the union of a few
// starts is what the next start needs, and the intersection shows how stable
// the set is.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
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

/// Fills, in every file of `m`, the gaps of at most `max_gap` pages between
/// recorded ranges (page_ranges.h fill_gaps). Returns the pages added.
/// Why: a page the record lacks costs the next start a synchronous mmap
/// read-around of every uncached page within read_ahead_kb of it (8 MiB on
/// this VM's disk), and the pages a start uses only sometimes lie in the
/// small gaps between the windows it always uses.
uint64_t fill_small_gaps(Manifest& m, uint64_t max_gap);

/// Where in a file (pages) a table lies that the start reads at offsets it
/// cannot predict; nullopt for a file without one.
using TableOf = std::function<std::optional<PageRange>(const std::string& path)>;

/// Fills, in every file of `m` that `table_of` gives a table for, all gaps
/// between the first and the last recorded page inside it (page_ranges.h
/// fill_within). Returns the pages added.
/// Why: Go's runtime reads its function table (pclntab) for every frame of
/// the stacks it walks - the garbage collector's stack scans, stack growth,
/// tracebacks - so which of its pages a start reads depends on what the
/// goroutines were doing when the collector ran. Caddy 2.6 from Debian, eight
/// single-start records: every page a start needed that a three-start union
/// (+ small gaps) lacked was in .gopclntab, and no page once it was filled.
uint64_t fill_tables(Manifest& m, const TableOf& table_of);

}  // namespace coldstart::pagecache
