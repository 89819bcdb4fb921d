// Fuzzes the Go .go.buildinfo decoder on its own: the input is the region
// after the section start, and also the "memory" that pointer-format string
// headers point into (virtual address 0x1000 = input offset 0).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "core/bytes.h"
#include "elf/go_buildinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coldstart;
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  elf::VaddrReader read = [bytes](uint64_t vaddr, uint64_t n) -> std::optional<std::span<const std::byte>> {
    if (vaddr < 0x1000) return std::nullopt;
    return strict_subspan(bytes, vaddr - 0x1000, n);
  };
  (void)elf::parse_go_buildinfo(bytes, read);
  elf::GoBuildInfo info;
  elf::parse_go_modinfo(as_chars(bytes), info);
  return 0;
}
