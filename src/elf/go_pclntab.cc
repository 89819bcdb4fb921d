// Decoding a Go pclntab (the layout is the Go linker's, cmd/link/internal/ld
// pcln.go; runtime/symtab.go and debug/gosym read it).
//
// Every format starts with an 8-byte header: a magic (0xfffffffb Go 1.2,
// 0xfffffffa 1.16, 0xfffffff0 1.18, 0xfffffff1 1.20+), two zero bytes, the
// instruction quantum (1 on x86) and the pointer size. Then, by format:
//   1.2   nfunc (uintptr); the function table follows at 8+ptr: nfunc pairs
//         (entry pc, offset of the func record) of uintptrs and the end pc;
//         offsets (of records and of their names) are from the table start.
//   1.16  nfunc, nfiles, then the offsets (from the table start) of funcnametab,
//         cutab, filetab, pctab and pclntab (uintptrs). The function table
//         opens pclntab: pairs of uintptrs as in 1.2, records at offsets from
//         pclntab, name offsets into funcnametab.
//   1.18+ as 1.16 with textStart after nfiles, and a function table of uint32
//         pairs (entry offset from textStart, record offset) plus the end
//         offset. 1.20 changed only what the records' funcdata mean.
// A record (_func) opens with its entry (uintptr before 1.18, uint32 offset
// after) and the int32 offset of its name. We check that every pair's entry
// agrees with its record's and that entries ascend, so a table that decodes
// is the table, not a chance pattern of bytes.
//
// Locating it: Go writes it to .gopclntab, except when it goes through an
// external linker as PIE (and some other modes since 1.18), where it lands
// without a name in .data.rel.ro. Then we look for a header at pointer-aligned
// places of every non-executable PT_LOAD and accept one only when a
// moduledata refers to it: runtime.firstmoduledata begins with a pointer to
// the header followed by funcnametab's data pointer (1.16+) or by the table's
// length (1.2). In a PIE both words are zero in the file and set by
// R_X86_64_RELATIVE relocations whose addends are the addresses; otherwise
// they are the addresses themselves. The same relocation gives textStart,
// which the file holds as 0 in a PIE.
#include "elf/go_pclntab.h"

#include <algorithm>
#include <unordered_map>

#include "core/bytes.h"

namespace coldstart::elf {
namespace {

constexpr uint32_t kMagic12 = 0xfffffffb;
constexpr uint32_t kMagic116 = 0xfffffffa;
constexpr uint32_t kMagic118 = 0xfffffff0;
constexpr uint32_t kMagic120 = 0xfffffff1;
// More functions than any real binary has; bounds the work a corrupt nfunc can ask for.
constexpr uint64_t kMaxFunctions = 1u << 22;

std::optional<uint64_t> read_word(std::span<const std::byte> s, uint64_t off, unsigned width) {
  return read_uint(s, off, width, false);
}

bool valid_header(std::span<const std::byte> t) {
  auto magic = read_at<uint32_t>(t, 0);
  if (!magic || (*magic != kMagic12 && *magic != kMagic116 && *magic != kMagic118 && *magic != kMagic120))
    return false;
  auto pad0 = read_at<uint8_t>(t, 4), pad1 = read_at<uint8_t>(t, 5), quantum = read_at<uint8_t>(t, 6),
       ptr = read_at<uint8_t>(t, 7);
  if (!pad0 || !pad1 || !quantum || !ptr || *pad0 != 0 || *pad1 != 0) return false;
  if (*quantum != 1 && *quantum != 2 && *quantum != 4) return false;
  return *ptr == 4 || *ptr == 8;
}

}  // namespace

std::string_view pclntab_source_name(PclntabSource source) {
  return source == PclntabSource::kSection ? ".gopclntab section" : "moduledata";
}

std::optional<GoFunctionTable> GoFunctionTable::parse(std::span<const std::byte> t, uint64_t text_start) {
  if (!valid_header(t)) return std::nullopt;
  uint32_t magic = *read_at<uint32_t>(t, 0);
  unsigned ps = static_cast<unsigned>(*read_at<uint8_t>(t, 7));
  auto nfunc = read_word(t, 8, ps);
  if (!nfunc || *nfunc > kMaxFunctions) return std::nullopt;

  GoFunctionTable table;
  table.pointer_size_ = ps;
  // Where the function table, the records and the names are, and how wide an entry is.
  std::span<const std::byte> ftab, records, names;
  unsigned field = ps;  // width of one half of a function-table pair
  uint64_t text_base = 0;
  if (magic == kMagic12) {
    table.format_ = "1.2";
    auto sub = strict_subspan(t, 8 + ps, t.size() - std::min<uint64_t>(t.size(), 8 + ps));
    if (!sub) return std::nullopt;
    ftab = *sub;
    records = names = t;
  } else {
    bool v118 = magic == kMagic118 || magic == kMagic120;
    table.format_ = magic == kMagic116 ? "1.16" : magic == kMagic118 ? "1.18" : "1.20";
    uint64_t base = 8 + 2 * ps;  // after nfunc, nfiles
    if (v118) {
      auto ts = read_word(t, base, ps);
      if (!ts) return std::nullopt;
      text_base = *ts != 0 ? *ts : text_start;
      base += ps;
      field = 4;
    }
    auto funcname_off = read_word(t, base, ps);
    auto pcln_off = read_word(t, base + 4 * ps, ps);
    if (!funcname_off || !pcln_off || *funcname_off > t.size() || *pcln_off > t.size()) return std::nullopt;
    names = t.subspan(static_cast<size_t>(*funcname_off));
    records = ftab = t.subspan(static_cast<size_t>(*pcln_off));
  }

  // nfunc pairs and the end entry must lie inside the function table.
  auto ftab_bytes = checked_mul(*nfunc, 2 * field);
  if (!ftab_bytes || !checked_add(*ftab_bytes, field) || *ftab_bytes + field > ftab.size()) return std::nullopt;
  table.functions_.reserve(static_cast<size_t>(*nfunc));
  auto entry_at = [&](uint64_t i) -> std::optional<uint64_t> {
    auto v = read_word(ftab, i * 2 * field, field);
    if (!v) return std::nullopt;
    return field == 4 ? checked_add(text_base, *v) : v;
  };
  std::optional<uint64_t> prev;
  for (uint64_t i = 0; i < *nfunc; ++i) {
    auto entry = entry_at(i);
    auto funcoff = read_word(ftab, i * 2 * field + field, field);
    if (!entry || !funcoff) return std::nullopt;
    if (prev && *entry < *prev) return std::nullopt;
    // The record repeats the entry (as the pair stores it) and names the function.
    auto rec_entry = read_word(records, *funcoff, field);
    auto nameoff = read_at<int32_t>(records, *funcoff + field);
    auto pair_entry = read_word(ftab, i * 2 * field, field);
    if (!rec_entry || !nameoff || *nameoff < 0 || *rec_entry != *pair_entry) return std::nullopt;
    auto name = read_cstring(names, static_cast<uint64_t>(*nameoff));
    if (!name) return std::nullopt;
    table.functions_.push_back({std::string(*name), *entry, 0});
    uint64_t record_end = static_cast<uint64_t>(records.data() - t.data()) + *funcoff + field + 4;
    table.extent = std::max(table.extent, record_end);
    prev = entry;
  }
  auto end = entry_at(*nfunc);
  if (!end || (prev && *end < *prev)) return std::nullopt;
  for (size_t i = 0; i < table.functions_.size(); ++i) {
    uint64_t next = i + 1 < table.functions_.size() ? table.functions_[i + 1].entry : *end;
    table.functions_[i].size = next - table.functions_[i].entry;
  }
  table.by_name_.resize(table.functions_.size());
  for (uint32_t i = 0; i < table.by_name_.size(); ++i) table.by_name_[i] = i;
  std::stable_sort(table.by_name_.begin(), table.by_name_.end(),
                   [&](uint32_t a, uint32_t b) { return table.functions_[a].name < table.functions_[b].name; });
  return table;
}

const GoFunction* GoFunctionTable::find(std::string_view name) const {
  auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                             [&](uint32_t i, std::string_view n) { return functions_[i].name < n; });
  if (it == by_name_.end() || functions_[*it].name != name) return nullptr;
  return &functions_[*it];
}

std::vector<const GoFunction*> GoFunctionTable::find_all(std::string_view name) const {
  std::vector<const GoFunction*> out;
  auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                             [&](uint32_t i, std::string_view n) { return functions_[i].name < n; });
  for (; it != by_name_.end() && functions_[*it].name == name; ++it) out.push_back(&functions_[*it]);
  return out;
}

const GoFunction* GoFunctionTable::containing(uint64_t address) const {
  auto it = std::upper_bound(functions_.begin(), functions_.end(), address,
                             [](uint64_t a, const GoFunction& f) { return a < f.entry; });
  if (it == functions_.begin()) return nullptr;
  --it;
  return address - it->entry < it->size ? &*it : nullptr;
}

namespace {

// The R_X86_64_RELATIVE relocations of the dynamic table: place -> addend.
std::unordered_map<uint64_t, uint64_t> relative_relocations(const ElfFile& file) {
  std::unordered_map<uint64_t, uint64_t> out;
  auto rela = file.dynamic_value(DT_RELA);
  auto size = file.dynamic_value(DT_RELASZ);
  if (!rela || !size) return out;
  auto bytes = file.bytes_at_vaddr(*rela, *size);
  if (!bytes) return out;
  for (uint64_t off = 0; off + sizeof(Elf64_Rela) <= bytes->size(); off += sizeof(Elf64_Rela)) {
    auto r = read_at<Elf64_Rela>(*bytes, off);
    if (r && ELF64_R_TYPE(r->r_info) == R_X86_64_RELATIVE) out[r->r_offset] = static_cast<uint64_t>(r->r_addend);
  }
  return out;
}

// The value a pointer-sized word at `vaddr` has once loaded: its relocation's
// addend in a PIE, else the word in the file.
std::optional<uint64_t> loaded_word(const ElfFile& file, const std::unordered_map<uint64_t, uint64_t>& relocs,
                                    uint64_t vaddr) {
  if (auto it = relocs.find(vaddr); it != relocs.end()) return it->second;
  auto b = file.bytes_at_vaddr(vaddr, 8);
  if (!b) return std::nullopt;
  return read_at<uint64_t>(*b, 0);
}

// True if some 8-aligned word of a writable PT_LOAD (a moduledata) points to
// `header` and is followed by the second word moduledata has there.
bool moduledata_refers_to(const ElfFile& file, const std::unordered_map<uint64_t, uint64_t>& relocs,
                          uint64_t header, std::optional<uint64_t> second) {
  auto second_ok = [&](uint64_t place) {
    auto w = loaded_word(file, relocs, place + 8);
    return w && (second ? *w == *second : *w != 0);
  };
  for (const auto& [place, addend] : relocs)
    if (addend == header && second_ok(place)) return true;
  for (const auto& seg : file.segments()) {
    if (seg.type != PT_LOAD || !(seg.flags & PF_W)) continue;
    auto bytes = strict_subspan(file.bytes(), seg.offset, seg.filesz);
    if (!bytes) continue;
    for (uint64_t off = (8 - seg.vaddr % 8) % 8; off + 16 <= bytes->size(); off += 8)
      if (*read_at<uint64_t>(*bytes, off) == header && second_ok(seg.vaddr + off)) return true;
  }
  return false;
}

std::optional<GoFunctionTable> from_moduledata(const ElfFile& file) {
  auto relocs = relative_relocations(file);
  const Section* text = file.section(".text");
  for (const auto& seg : file.segments()) {
    if (seg.type != PT_LOAD || (seg.flags & PF_X)) continue;
    auto bytes = strict_subspan(file.bytes(), seg.offset, seg.filesz);
    if (!bytes) continue;
    for (uint64_t off = (8 - seg.vaddr % 8) % 8; off + 16 <= bytes->size(); off += 8) {
      uint32_t magic = *read_at<uint32_t>(*bytes, off);
      if ((magic | 0xf) != 0xffffffff) continue;  // cheap pre-filter: 0xfffffff0..f
      auto t = bytes->subspan(static_cast<size_t>(off));
      if (!valid_header(t)) continue;
      uint64_t vaddr = seg.vaddr + off;
      unsigned ps = static_cast<unsigned>(t[7]);
      std::optional<uint64_t> second;
      uint64_t text_start = text != nullptr ? text->addr : 0;
      if (magic != kMagic12) {
        bool v118 = magic == kMagic118 || magic == kMagic120;
        auto funcname_off = read_word(t, 8 + (v118 ? 3 : 2) * ps, ps);
        if (!funcname_off) continue;
        second = vaddr + *funcname_off;
        if (v118) {
          if (auto it = relocs.find(vaddr + 8 + 2 * ps); it != relocs.end()) text_start = it->second;
        }
      }
      if (!moduledata_refers_to(file, relocs, vaddr, second)) continue;
      auto table = GoFunctionTable::parse(t, text_start);
      if (!table) continue;
      table->source = PclntabSource::kModuledata;
      table->vaddr = vaddr;
      return table;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<GoFunctionTable> read_go_functions(const ElfFile& file) {
  if (const Section* s = file.section(".gopclntab")) {
    if (auto bytes = file.section_bytes(*s)) {
      const Section* text = file.section(".text");
      auto table = GoFunctionTable::parse(*bytes, text != nullptr ? text->addr : 0);
      if (table) {
        table->source = PclntabSource::kSection;
        table->vaddr = s->addr;
        return table;
      }
    }
  }
  return from_moduledata(file);
}

}  // namespace coldstart::elf
