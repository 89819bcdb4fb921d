// Fuzzes the /etc/ld.so.cache parser (old + new formats).
#include <cstddef>
#include <cstdint>
#include <span>

#include "elf/ld_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto cache = coldstart::elf::LdCache::parse(std::span(reinterpret_cast<const std::byte*>(data), size));
  (void)cache.lookup("libc.so.6");
  return 0;
}
