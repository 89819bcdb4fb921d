// The target's stderr (GODEBUG=inittrace=1,gctrace=1 output interleaved with
// whatever the service prints) is untrusted text: it parses, never crashes.
// The trace library is not part of the fuzz build (it needs the BPF skeleton
// generated at build time), so the parser's one source file is compiled in.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trace/go_inittrace.cc"  // NOLINT(bugprone-suspicious-include)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto report = coldstart::trace::parse_go_inittrace(text);
  for (const auto& init : report.inits) {
    if (init.package.empty() || init.clock_s < 0 || init.start_s < 0) __builtin_trap();
  }
  if (report.inits.size() > size / 30 + 1) __builtin_trap();  // every init line is > 30 bytes
  return 0;
}
