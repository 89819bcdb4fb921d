// Fuzzes the prewarm manifest parser: any input either parses into a manifest
// whose ranges lie inside the recorded sizes, or throws UserError. A parsed
// manifest must survive a write/read round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "pagecache/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coldstart::pagecache;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    Manifest m = parse_manifest(text, "fuzz");
    for (const ManifestFile& f : m.files) {
      uint64_t pages = f.identity.size / m.page_size + (f.identity.size % m.page_size != 0);
      for (const PageRange& r : f.ranges)
        if (r.count == 0 || r.end() > pages) std::abort();
      (void)local_ranges(f, m.page_size);
    }
    (void)m.total_bytes();
    std::string again = manifest_to_json(m);
    if (manifest_to_json(parse_manifest(again, "fuzz")) != again) std::abort();
  } catch (const coldstart::UserError&) {
  }
  return 0;
}
