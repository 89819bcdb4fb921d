// Page-range arithmetic shared by the page-cache layer: runs of pages of one
// file, as residency, recordings, manifests and traces produce them. Pure
// logic, no cache state. Every function that takes "normalized" ranges means
// sorted by `first`, non-overlapping, non-touching, no empty run.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace coldstart::pagecache {

/// A run of `count` pages starting at page index `first` of a file.
struct PageRange {
  uint64_t first = 0;
  uint64_t count = 0;
  uint64_t end() const { return first + count; }
  bool operator==(const PageRange&) const = default;
};

/// Sorts and merges overlapping or touching ranges; drops empty ones.
std::vector<PageRange> normalize(std::vector<PageRange> ranges);

/// Coalesces a mincore()-style vector (bit 0 of each byte = resident) into ranges.
std::vector<PageRange> ranges_from_bitmap(std::span<const unsigned char> bitmap);

/// Total pages covered by `ranges` (assumed normalized).
uint64_t total_pages(std::span<const PageRange> ranges);

/// The pages in both (both normalized; the result is normalized).
std::vector<PageRange> intersect(std::span<const PageRange> a, std::span<const PageRange> b);

/// How many pages are in both (both normalized): total_pages(intersect(a, b)).
uint64_t overlap(std::span<const PageRange> a, std::span<const PageRange> b);

/// The pages of both (normalized).
std::vector<PageRange> unite(std::span<const PageRange> a, std::span<const PageRange> b);

/// `ranges` (normalized) cut to the first `pages` pages of a file: a private
/// mapping may reach past EOF (.bss), and a read() past EOF reads nothing.
std::vector<PageRange> clip_to(std::span<const PageRange> ranges, uint64_t pages);

/// `ranges` (normalized) with every gap of at most `max_gap` pages between
/// two of them filled; the pages before the first and after the last range
/// are never added. max_gap 0 returns `ranges` unchanged.
std::vector<PageRange> fill_gaps(std::span<const PageRange> ranges, uint64_t max_gap);

/// `ranges` (normalized) with every gap between the first and the last of
/// their pages that lie inside `span` filled, whatever its size; nothing
/// outside `span` is added, and a span holding no page adds nothing.
std::vector<PageRange> fill_within(std::span<const PageRange> ranges, PageRange span);

}  // namespace coldstart::pagecache
