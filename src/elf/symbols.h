// Symbol tables of an ElfFile: counts for the census and lookups by name.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "elf/elf_file.h"

namespace coldstart::elf {

/// Symbol counts that bear on start-up: the dynamic symbols the loader hashes
/// and looks up, and whether a full symbol table is present.
struct SymbolCounts {
  uint64_t dynsym = 0;            // entries of .dynsym, null symbol excluded
  uint64_t dynsym_undefined = 0;  // of those, undefined: looked up in other objects at start
  uint64_t dynsym_defined = 0;    // exported to other objects
  uint64_t symtab = 0;            // entries of .symtab (0 when stripped), null symbol excluded
  bool has_symtab = false;
};

SymbolCounts count_symbols(const ElfFile& file);

/// A defined symbol's value and size, looked up in .symtab then .dynsym.
struct SymbolValue {
  uint64_t value = 0;
  uint64_t size = 0;
};
std::optional<SymbolValue> lookup_symbol(const ElfFile& file, std::string_view name);

}  // namespace coldstart::elf
