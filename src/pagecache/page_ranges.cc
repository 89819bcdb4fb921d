// Page-range arithmetic (see page_ranges.h). Intersections walk the two
// sorted lists once, advancing whichever range ends first.
#include "pagecache/page_ranges.h"

#include <algorithm>
#include <optional>

namespace coldstart::pagecache {

std::vector<PageRange> normalize(std::vector<PageRange> ranges) {
  std::erase_if(ranges, [](const PageRange& r) { return r.count == 0; });
  std::sort(ranges.begin(), ranges.end(),
            [](const PageRange& a, const PageRange& b) { return a.first < b.first; });
  std::vector<PageRange> out;
  for (const PageRange& r : ranges) {
    if (!out.empty() && r.first <= out.back().end()) {
      out.back().count = std::max(out.back().end(), r.end()) - out.back().first;
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::vector<PageRange> ranges_from_bitmap(std::span<const unsigned char> bitmap) {
  std::vector<PageRange> out;
  for (size_t i = 0; i < bitmap.size(); ++i) {
    if ((bitmap[i] & 1) == 0) continue;
    if (!out.empty() && out.back().end() == i) {
      ++out.back().count;
    } else {
      out.push_back({i, 1});
    }
  }
  return out;
}

uint64_t total_pages(std::span<const PageRange> ranges) {
  uint64_t n = 0;
  for (const PageRange& r : ranges) n += r.count;
  return n;
}

std::vector<PageRange> intersect(std::span<const PageRange> a, std::span<const PageRange> b) {
  std::vector<PageRange> out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    uint64_t lo = std::max(a[i].first, b[j].first), hi = std::min(a[i].end(), b[j].end());
    if (lo < hi) out.push_back({lo, hi - lo});
    if (a[i].end() < b[j].end()) ++i;
    else ++j;
  }
  return out;
}

uint64_t overlap(std::span<const PageRange> a, std::span<const PageRange> b) {
  return total_pages(intersect(a, b));
}

std::vector<PageRange> unite(std::span<const PageRange> a, std::span<const PageRange> b) {
  std::vector<PageRange> all(a.begin(), a.end());
  all.insert(all.end(), b.begin(), b.end());
  return normalize(std::move(all));
}

std::vector<PageRange> clip_to(std::span<const PageRange> ranges, uint64_t pages) {
  std::vector<PageRange> out;
  for (PageRange r : ranges) {
    if (r.first >= pages) break;
    r.count = std::min(r.end(), pages) - r.first;
    out.push_back(r);
  }
  return out;
}

std::vector<PageRange> fill_gaps(std::span<const PageRange> ranges, uint64_t max_gap) {
  std::vector<PageRange> out;
  for (const PageRange& r : ranges) {
    if (!out.empty() && r.first - out.back().end() <= max_gap) {
      out.back().count = r.end() - out.back().first;
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::vector<PageRange> fill_within(std::span<const PageRange> ranges, PageRange span) {
  std::optional<uint64_t> first;
  uint64_t last_end = 0;
  for (const PageRange& r : ranges) {
    uint64_t begin = std::max(r.first, span.first), end = std::min(r.end(), span.end());
    if (begin >= end) continue;
    if (!first) first = begin;
    last_end = end;
  }
  if (!first) return {ranges.begin(), ranges.end()};
  std::vector<PageRange> filled{PageRange{*first, last_end - *first}};
  return unite(ranges, filled);
}

}  // namespace coldstart::pagecache
