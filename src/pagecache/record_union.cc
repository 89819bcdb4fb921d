// Union and intersection of page-range sets, file by file.
//
// Each manifest's ranges are normalized (sorted, merged), so per file the
// union is normalize(concatenation) and the intersection is a merge walk of
// the two sorted lists; the per-run intersection is folded over the runs. A
// file missing from one recording contributes nothing to "in every".
#include "pagecache/record_union.h"

#include <algorithm>
#include <map>
#include <string>

namespace coldstart::pagecache {
Manifest union_of(const std::vector<Manifest>& runs, Stability& stability) {
  stability = Stability{};
  stability.runs = static_cast<int>(runs.size());
  Manifest out = runs.back();
  std::map<std::string, ManifestFile> files;
  std::map<std::string, std::vector<PageRange>> every;
  std::map<std::string, int> seen;
  for (size_t r = 0; r < runs.size(); ++r) {
    stability.pages_per_run.push_back(runs[r].total_pages());
    for (const ManifestFile& f : runs[r].files) {
      auto [it, fresh] = files.try_emplace(f.path, f);
      if (!fresh) {
        it->second.ranges = unite(it->second.ranges, f.ranges);
        it->second.identity = f.identity;
      }
      auto [e, first] = every.try_emplace(f.path, f.ranges);
      if (!first) e->second = intersect(e->second, f.ranges);
      ++seen[f.path];
    }
  }
  out.files.clear();
  for (auto& [path, f] : files) {
    stability.pages_in_some += total_pages(f.ranges);
    if (seen[path] == static_cast<int>(runs.size())) stability.pages_in_every += total_pages(every[path]);
    out.files.push_back(std::move(f));
  }
  return out;
}

uint64_t fill_small_gaps(Manifest& m, uint64_t max_gap) {
  uint64_t before = m.total_pages();
  for (ManifestFile& f : m.files) f.ranges = fill_gaps(f.ranges, max_gap);
  return m.total_pages() - before;
}

uint64_t fill_tables(Manifest& m, const TableOf& table_of) {
  uint64_t before = m.total_pages();
  for (ManifestFile& f : m.files)
    if (auto table = table_of(f.path)) f.ranges = fill_within(f.ranges, *table);
  return m.total_pages() - before;
}

}  // namespace coldstart::pagecache
