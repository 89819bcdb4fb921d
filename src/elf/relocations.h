// The relocation census: what the dynamic loader (or a static PIE's
// self-relocation) processes at every start.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "elf/elf_file.h"

namespace coldstart::elf {

/// The relocations of one table (a SHT_RELA/SHT_REL/SHT_RELR section, or a
/// DT_RELA/DT_JMPREL/DT_RELR range when there are no section headers).
struct RelocationTable {
  std::string name;           // ".rela.dyn", ".rela.plt", ".relr.dyn", or "DT_RELA" ...
  std::string format;         // "rela", "rel", "relr"
  uint64_t offset = 0;        // file offset
  uint64_t bytes = 0;         // size of the table in the file
  uint64_t entries = 0;       // RELA/REL entries, or RELR words
  bool loaded = false;        // SHF_ALLOC: processed at run time
  std::map<std::string, uint64_t> by_type;  // "R_X86_64_RELATIVE" -> count (RELA/REL only)
  uint64_t relr_relocations = 0;            // RELR: relative relocations the words expand to
};

/// RelocationCensus sums the tables: counts by class and by exact type name.
struct RelocationCensus {
  std::vector<RelocationTable> tables;
  uint64_t relative = 0;    // R_X86_64_RELATIVE entries
  uint64_t glob_dat = 0;    // R_X86_64_GLOB_DAT
  uint64_t jump_slot = 0;   // R_X86_64_JUMP_SLOT
  uint64_t irelative = 0;   // R_X86_64_IRELATIVE (an ifunc resolver runs for each)
  uint64_t other = 0;       // every other type
  uint64_t relr_words = 0;        // DT_RELR entries
  uint64_t relr_relocations = 0;  // relative relocations they expand to
  uint64_t bytes = 0;             // bytes of all loaded tables
  std::map<std::string, uint64_t> by_type;

  /// All relocations processed at start (RELR expanded).
  uint64_t total() const { return relative + glob_dat + jump_slot + irelative + other + relr_relocations; }
};

/// Counts the relocations of every relocation section (all of them, as
/// `readelf -r` lists them; `loaded` tells which the loader processes), or of
/// the dynamic table's ranges when the file has no section headers.
RelocationCensus count_relocations(const ElfFile& file);

/// "R_X86_64_RELATIVE", or "R_X86_64_<n>" for a number without a name.
std::string x86_64_relocation_name(uint32_t type);

}  // namespace coldstart::elf
