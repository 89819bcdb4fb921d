// Walking SHT_SYMTAB / SHT_DYNSYM.
//
// Each table is an array of Elf64_Sym whose st_name indexes the string table
// named by the section's sh_link. Entry 0 is the reserved null symbol. A
// symbol is undefined when st_shndx == SHN_UNDEF; those of .dynsym are what
// ld.so must find in another object at start (or at first call, if lazy).
#include "elf/symbols.h"

#include "core/bytes.h"

namespace coldstart::elf {
namespace {

// Calls fn(sym, name) for every symbol of the first section of `type`;
// stops early when fn returns true. Returns false if the table is absent.
template <typename Fn>
bool for_each_symbol(const ElfFile& file, uint32_t type, Fn&& fn) {
  const Section* table = nullptr;
  for (const auto& s : file.sections())
    if (s.type == type) {
      table = &s;
      break;
    }
  if (table == nullptr) return false;
  auto syms = file.section_bytes(*table);
  if (!syms) return true;
  std::optional<std::span<const std::byte>> names;
  if (table->link < file.sections().size()) names = file.section_bytes(file.sections()[table->link]);
  for (uint64_t off = sizeof(Elf64_Sym); off + sizeof(Elf64_Sym) <= syms->size(); off += sizeof(Elf64_Sym)) {
    Elf64_Sym sym = *read_at<Elf64_Sym>(*syms, off);
    std::string_view name;
    if (names) name = read_cstring(*names, sym.st_name).value_or("");
    if (fn(sym, name)) break;
  }
  return true;
}

}  // namespace

SymbolCounts count_symbols(const ElfFile& file) {
  SymbolCounts c;
  for_each_symbol(file, SHT_DYNSYM, [&](const Elf64_Sym& sym, std::string_view) {
    ++c.dynsym;
    (sym.st_shndx == SHN_UNDEF ? c.dynsym_undefined : c.dynsym_defined)++;
    return false;
  });
  c.has_symtab = for_each_symbol(file, SHT_SYMTAB, [&](const Elf64_Sym&, std::string_view) {
    ++c.symtab;
    return false;
  });
  return c;
}

std::optional<SymbolValue> lookup_symbol(const ElfFile& file, std::string_view name) {
  std::optional<SymbolValue> found;
  for (uint32_t type : {SHT_SYMTAB, SHT_DYNSYM}) {
    for_each_symbol(file, type, [&](const Elf64_Sym& sym, std::string_view n) {
      unsigned kind = ELF64_ST_TYPE(sym.st_info);
      if (n != name || sym.st_shndx == SHN_UNDEF || (kind != STT_FUNC && kind != STT_OBJECT)) return false;
      found = SymbolValue{sym.st_value, sym.st_size};
      return true;
    });
    if (found) return found;
  }
  return std::nullopt;
}

}  // namespace coldstart::elf
