// Fuzzes the ELF64 reader and everything inspect derives from an image:
// headers, dynamic table, relocation census (RELA/REL/RELR), symbols, notes,
// Go build info and the read-only-data string search. Bad input may only
// ever surface as coldstart::UserError.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "elf/elf.h"
#include "elf/elf_file.h"
#include "elf/facts.h"
#include "elf/go_buildinfo.h"
#include "elf/relocations.h"
#include "elf/symbols.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coldstart::elf;
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    ElfFile f = ElfFile::parse(bytes, "fuzz");
    (void)image_kind(f);
    (void)f.interpreter();
    for (uint64_t off : f.dynamic_values(DT_NEEDED)) (void)f.dynamic_string(off);
    (void)count_relocations(f);
    (void)count_symbols(f);
    (void)lookup_symbol(f, "main");
    (void)build_id(f);
    (void)has_go_markers(f);
    (void)read_go_buildinfo(f);
    (void)contains_in_rodata(f, "NOTIFY_SOCKET");
    (void)f.vaddr_to_offset(f.header().e_entry);
  } catch (const coldstart::UserError&) {
  }
  return 0;
}
