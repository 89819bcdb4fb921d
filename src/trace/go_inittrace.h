// Go's start-up self-report: with GODEBUG=inittrace=1 the runtime prints one
// line per package init to stderr, with gctrace=1 one line per GC cycle.
// This parses those lines (untrusted text: fuzzed, fuzz/targets_trace.cmake).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coldstart::trace {

/// One "init <package> @<start> ms, <clock> ms clock, <bytes> bytes, <allocs> allocs" line.
struct GoPackageInit {
  std::string package;
  double start_s = 0;  // since the runtime started
  double clock_s = 0;  // wall time of the package's init functions
  uint64_t bytes = 0;
  uint64_t allocs = 0;
};

/// What the Go runtime reported about its start.
struct GoInitReport {
  std::vector<GoPackageInit> inits;  // in the order the runtime ran them
  uint64_t gc_cycles = 0;            // "gc N @..." lines
  double total_init_s() const;
};

/// Parses the lines of `text` it recognises and ignores every other line.
GoInitReport parse_go_inittrace(std::string_view text);

/// The GODEBUG value that turns both reports on, merged with an existing one.
std::string godebug_with_inittrace(std::string_view existing);

}  // namespace coldstart::trace
