// Counting relocations without applying them.
//
// Tables come from the section headers (SHT_RELA = Elf64_Rela, 24 bytes;
// SHT_REL = Elf64_Rel, 16 bytes; SHT_RELR = 8-byte words), or, for files
// whose section headers were stripped, from the dynamic table: DT_RELA +
// DT_RELASZ, DT_REL + DT_RELSZ, DT_JMPREL + DT_PLTRELSZ (of kind DT_PLTREL),
// DT_RELR + DT_RELRSZ, all virtual addresses translated through PT_LOAD.
// The type of a RELA/REL entry is the low 32 bits of r_info.
//
// RELR (DT_RELR, glibc >= 2.36, `ld -z pack-relative-relocs`): a word with bit
// 0 clear is an address to relocate and sets the next address to it + 8; a
// word with bit 0 set is a bitmap whose bits 1..63 say which of the next 63
// words get a relative relocation, after which the next address advances by
// 63 words. The number of relocations is therefore 1 per address word plus
// the set bits of each bitmap word.
#include "elf/relocations.h"

#include <bit>

#include <fmt/format.h>

#include "core/bytes.h"

namespace coldstart::elf {
namespace {

constexpr const char* kX8664Names[] = {
    "NONE",       "64",         "PC32",          "GOT32",        "PLT32",      "COPY",      "GLOB_DAT",
    "JUMP_SLOT",  "RELATIVE",   "GOTPCREL",      "32",           "32S",        "16",        "PC16",
    "8",          "PC8",        "DTPMOD64",      "DTPOFF64",     "TPOFF64",    "TLSGD",     "TLSLD",
    "DTPOFF32",   "GOTTPOFF",   "TPOFF32",       "PC64",         "GOTOFF64",   "GOTPC32",   "GOT64",
    "GOTPCREL64", "GOTPC64",    "GOTPLT64",      "PLTOFF64",     "SIZE32",     "SIZE64",    "GOTPC32_TLSDESC",
    "TLSDESC_CALL", "TLSDESC",  "IRELATIVE",     "RELATIVE64",   nullptr,      nullptr,     "GOTPCRELX",
    "REX_GOTPCRELX"};

void count_entries(RelocationTable& t, std::span<const std::byte> data, RelocationCensus& c) {
  uint64_t entsize = t.format == "rela" ? sizeof(Elf64_Rela) : t.format == "rel" ? sizeof(Elf64_Rel) : 8;
  t.entries = data.size() / entsize;
  if (t.format == "relr") {
    for (uint64_t off = 0; off + 8 <= data.size(); off += 8) {
      uint64_t w = *read_at<uint64_t>(data, off);
      t.relr_relocations += (w & 1) == 0 ? 1 : static_cast<uint64_t>(std::popcount(w >> 1));
    }
    c.relr_words += t.entries;
    c.relr_relocations += t.relr_relocations;
    return;
  }
  for (uint64_t off = 0; off + entsize <= data.size(); off += entsize) {
    // r_info is the second 8-byte field of both Elf64_Rel and Elf64_Rela.
    uint64_t info = *read_at<uint64_t>(data, off + 8);
    auto type = static_cast<uint32_t>(ELF64_R_TYPE(info));
    ++t.by_type[x86_64_relocation_name(type)];
    switch (type) {
      case R_X86_64_RELATIVE: ++c.relative; break;
      case R_X86_64_GLOB_DAT: ++c.glob_dat; break;
      case R_X86_64_JUMP_SLOT: ++c.jump_slot; break;
      case R_X86_64_IRELATIVE: ++c.irelative; break;
      default: ++c.other; break;
    }
  }
  for (const auto& [name, n] : t.by_type) c.by_type[name] += n;
}

void add_table(const ElfFile& file, RelocationCensus& c, RelocationTable t) {
  auto data = strict_subspan(file.bytes(), t.offset, t.bytes);
  if (!data) return;  // table outside the file: nothing the loader could read either
  count_entries(t, *data, c);
  if (t.loaded) c.bytes += t.bytes;
  c.tables.push_back(std::move(t));
}

void from_sections(const ElfFile& file, RelocationCensus& c) {
  for (const auto& s : file.sections()) {
    const char* format = s.type == SHT_RELA ? "rela" : s.type == SHT_REL ? "rel" : s.type == SHT_RELR ? "relr" : nullptr;
    if (format == nullptr) continue;
    add_table(file, c, RelocationTable{std::string(s.name), format, s.offset, s.size, 0, (s.flags & SHF_ALLOC) != 0, {}, 0});
  }
}

void from_dynamic(const ElfFile& file, RelocationCensus& c) {
  auto range = [&](int64_t addr_tag, int64_t size_tag, const char* name, const char* format) {
    auto addr = file.dynamic_value(addr_tag);
    auto size = file.dynamic_value(size_tag);
    if (!addr || !size || *size == 0) return;
    auto off = file.vaddr_to_offset(*addr);
    if (!off) return;
    add_table(file, c, RelocationTable{name, format, *off, *size, 0, true, {}, 0});
  };
  range(DT_RELA, DT_RELASZ, "DT_RELA", "rela");
  range(DT_REL, DT_RELSZ, "DT_REL", "rel");
  range(DT_JMPREL, DT_PLTRELSZ, "DT_JMPREL", file.dynamic_value(DT_PLTREL).value_or(DT_RELA) == DT_REL ? "rel" : "rela");
  range(DT_RELR, DT_RELRSZ, "DT_RELR", "relr");
}

}  // namespace

std::string x86_64_relocation_name(uint32_t type) {
  if (type < std::size(kX8664Names) && kX8664Names[type] != nullptr) return std::string("R_X86_64_") + kX8664Names[type];
  return fmt::format("R_X86_64_{}", type);
}

RelocationCensus count_relocations(const ElfFile& file) {
  RelocationCensus c;
  if (!file.sections().empty()) from_sections(file, c);
  else from_dynamic(file, c);
  return c;
}

}  // namespace coldstart::elf
