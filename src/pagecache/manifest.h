// The prewarm manifest: which page ranges of which files a start needs, plus
// each file's identity so a changed file is detected. JSON, documented in
// docs/prewarm.md; this is the only reader and writer of the format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pagecache/residency.h"

namespace coldstart::pagecache {

inline constexpr std::string_view kManifestFormat = "coldstart-prewarm-manifest";
inline constexpr int kManifestVersion = 1;

/// One file of a manifest: identity at recording time and the needed pages.
struct ManifestFile {
  std::string path;  // absolute
  FileIdentity identity;
  std::vector<PageRange> ranges;  // in units of Manifest::page_size, normalized
};

/// A recorded start-up working set.
struct Manifest {
  uint64_t page_size = 0;
  std::vector<std::string> command;  // informational
  std::string recorded_with;         // informational: how ranges were found
  /// informational, written when set (prewarm record): how the set was made.
  struct Recording {
    int starts = 0;             // recorded starts whose union this is
    std::string discovery;      // "traced" or "untraced" (files read and closed before ready missed)
    /// How pages were found: "pagemap+filemap-trace" (page tables at ready +
    /// the BPF page tracer: faults, reads, fault-around of pages the start
    /// added), "pagemap" (page tables; files read and closed by residency),
    /// "filemap-trace" or "residency" (the tree was gone at ready).
    std::string method;
    uint64_t pages_traced_only = 0;  // of the union, pages only the tracer saw (not mapped at ready)
    uint64_t pages_in_every = 0;
    uint64_t pages_in_some = 0;
    /// prewarm record --fill-gaps: gaps of at most this many pages between
    /// recorded ranges were filled (0: none), adding `pages_gap_filled` pages
    /// to the union (pages_in_some counts the union before the filling).
    uint64_t gap_fill_pages = 0;
    uint64_t pages_gap_filled = 0;
    /// Pages added by filling, whatever the gaps' size, between the first and
    /// last recorded pages of a Go binary's function table (record_union.h
    /// fill_tables), before the small gaps were filled.
    uint64_t pages_table_filled = 0;
  };
  std::optional<Recording> recording;
  std::vector<ManifestFile> files;

  uint64_t total_pages() const;
  uint64_t total_bytes() const;
};

/// Parses manifest text. Throws UserError naming `origin` and the reason
/// ("not JSON: ..." or "not a coldstart prewarm manifest: ...").
Manifest parse_manifest(std::string_view text, std::string_view origin);

/// Reads and parses a manifest file; throws UserError.
Manifest read_manifest(const std::string& path);

/// Serializes (stable key order, one file per line for readable diffs).
std::string manifest_to_json(const Manifest& m);

/// Writes atomically (no partial file on failure); throws UserError.
void write_manifest(const std::string& path, const Manifest& m);

/// Every page of each of `paths` (what `vmtouch -t` loads): what apply does
/// with FILE... instead of a manifest. Files that cannot be opened stay in
/// with an empty identity and no ranges, so apply reports them as missing or
/// refused like a manifest's files.
Manifest whole_files_manifest(const std::vector<std::string>& paths);

/// The ranges of `file` in pages of this machine's page_size(), from a
/// manifest recorded with `manifest_page_size`.
std::vector<PageRange> local_ranges(const ManifestFile& file, uint64_t manifest_page_size);

}  // namespace coldstart::pagecache
