// Fuzzes the Go pclntab decoder (elf/go_pclntab.h): the input is a table from
// its header on, as the .gopclntab section or a moduledata hands it over.
// Seeds (fuzz/corpus/elf_pclntab) are real binaries' tables cut small by
// fuzz/cut_pclntab, in each of the four formats.
#include <cstddef>
#include <cstdint>
#include <span>

#include "elf/go_pclntab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coldstart;
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto table = elf::GoFunctionTable::parse(bytes, 0x401000);
  if (!table) return 0;
  // Every function must be found again by its name and by its address.
  for (const auto& f : table->functions()) {
    const elf::GoFunction* by_name = table->find(f.name);
    if (by_name == nullptr || by_name->name != f.name) __builtin_trap();
    if (f.size > 0 && table->containing(f.entry) == nullptr) __builtin_trap();
  }
  return 0;
}
