// Parsing an ELF64 image in place.
//
// The file is mmapped once (core::Mapping) and every structure is copied out
// with read_at<T> (memcpy), so a truncated, misaligned or hostile file gives an
// error, never an out-of-bounds read. Only the header tables are parsed
// eagerly (ELF header, section headers + their names, program headers, the
// PT_DYNAMIC table); section contents stay in the page cache and are looked at
// by whoever needs them, which is why a 100 MB binary costs about as much as a
// 100 KB one.
//
// ELF facts relied on (gABI, "Object Files"):
//  * e_shnum == 0 with e_shoff != 0 means the count is in section 0's sh_size;
//    e_shstrndx == SHN_XINDEX means the index is in section 0's sh_link.
//  * The dynamic table is found through PT_DYNAMIC (what ld.so uses), not the
//    .dynamic section, and ends at the first DT_NULL.
//  * DT_STRTAB holds a virtual address; it is translated through the PT_LOAD
//    segments (offset = vaddr - p_vaddr + p_offset inside p_filesz).
#include "elf/elf_file.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/bytes.h"
#include "core/error.h"

namespace coldstart::elf {

std::optional<ElfIdent> read_ident(std::span<const std::byte> bytes) {
  if (bytes.size() < EI_NIDENT + 4) return std::nullopt;
  auto c = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  if (c(0) != ELFMAG0 || c(1) != ELFMAG1 || c(2) != ELFMAG2 || c(3) != ELFMAG3) return std::nullopt;
  ElfIdent id;
  id.elf_class = c(EI_CLASS);
  id.data = c(EI_DATA);
  bool big = id.data == ELFDATA2MSB;
  // e_type and e_machine sit at the same offsets (16, 18) in both classes.
  id.type = static_cast<unsigned>(read_uint(bytes, 16, 2, big).value_or(0));
  id.machine = static_cast<unsigned>(read_uint(bytes, 18, 2, big).value_or(0));
  return id;
}

std::string machine_name(unsigned machine) {
  switch (machine) {
    case EM_X86_64: return "x86-64";
    case EM_386: return "Intel 80386";
    case EM_AARCH64: return "AArch64";
    case EM_ARM: return "ARM";
    case EM_RISCV: return "RISC-V";
    case EM_PPC64: return "PowerPC64";
    case EM_S390: return "IBM S/390";
    case EM_MIPS: return "MIPS";
    case EM_NONE: return "none";
    default: return fmt::format("machine {}", machine);
  }
}

bool is_supported(const ElfIdent& id) {
  return id.elf_class == ELFCLASS64 && id.data == ELFDATA2LSB && id.machine == EM_X86_64;
}

ElfFile ElfFile::open(const std::string& path) {
  Mapping m = Mapping::map_file(path);
  ElfFile f;
  f.bytes_ = m.bytes();
  f.mapping_ = std::move(m);
  f.name_ = path;
  f.parse_headers();
  return f;
}

ElfFile ElfFile::parse(std::span<const std::byte> bytes, std::string name) {
  ElfFile f;
  f.bytes_ = bytes;
  f.name_ = std::move(name);
  f.parse_headers();
  return f;
}

void ElfFile::corrupt(const std::string& what) const {
  throw UserError(fmt::format("{}: corrupt or truncated ELF: {}", name_, what));
}

void ElfFile::parse_headers() {
  auto id = read_ident(bytes_);
  if (!id) {
    if (bytes_.size() >= 4 && as_chars(bytes_.first(4)) == "\177ELF") corrupt("file ends inside the ELF header");
    throw UserError(name_ + ": not an ELF file");
  }
  if (!is_supported(*id)) {
    const char* cls = id->elf_class == ELFCLASS32 ? "32-bit" : id->elf_class == ELFCLASS64 ? "64-bit" : "unknown-class";
    const char* order = id->data == ELFDATA2MSB ? "big-endian" : "little-endian";
    throw UserError(fmt::format("{}: unsupported ELF: {} {} {} (coldstart reads 64-bit little-endian x86-64)",
                                name_, cls, order, machine_name(id->machine)));
  }
  auto eh = read_at<Elf64_Ehdr>(bytes_, 0);
  if (!eh) corrupt("file ends inside the ELF header");
  ehdr_ = *eh;
  parse_segments();
  parse_sections();
  parse_dynamic();
}

void ElfFile::parse_segments() {
  if (ehdr_.e_phnum == 0) return;
  if (ehdr_.e_phentsize != sizeof(Elf64_Phdr)) corrupt(fmt::format("e_phentsize {}", ehdr_.e_phentsize));
  for (unsigned i = 0; i < ehdr_.e_phnum; ++i) {
    auto ph = read_at<Elf64_Phdr>(bytes_, ehdr_.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr));
    if (!ph) corrupt(fmt::format("program header {} lies outside the file", i));
    segments_.push_back({ph->p_type, ph->p_flags, ph->p_offset, ph->p_vaddr, ph->p_filesz, ph->p_memsz});
  }
}

void ElfFile::parse_sections() {
  if (ehdr_.e_shoff == 0) return;  // section headers stripped (sstrip): dynamic table still works
  if (ehdr_.e_shentsize != sizeof(Elf64_Shdr)) corrupt(fmt::format("e_shentsize {}", ehdr_.e_shentsize));
  auto first = read_at<Elf64_Shdr>(bytes_, ehdr_.e_shoff);
  if (!first) corrupt(fmt::format("section headers at {:#x} lie outside the file ({} bytes)", ehdr_.e_shoff,
                                  bytes_.size()));
  uint64_t count = ehdr_.e_shnum != 0 ? ehdr_.e_shnum : first->sh_size;
  uint64_t strndx = ehdr_.e_shstrndx != SHN_XINDEX ? ehdr_.e_shstrndx : first->sh_link;
  auto table_size = checked_mul(count, sizeof(Elf64_Shdr));
  if (!table_size || !strict_subspan(bytes_, ehdr_.e_shoff, *table_size))
    corrupt(fmt::format("{} section headers at {:#x} do not fit in the file ({} bytes)", count, ehdr_.e_shoff,
                        bytes_.size()));
  std::vector<Elf64_Shdr> raw(count);
  for (uint64_t i = 0; i < count; ++i) raw[i] = *read_at<Elf64_Shdr>(bytes_, ehdr_.e_shoff + i * sizeof(Elf64_Shdr));
  std::optional<std::span<const std::byte>> names;
  if (strndx != SHN_UNDEF && strndx < count && raw[strndx].sh_type != SHT_NOBITS)
    names = strict_subspan(bytes_, raw[strndx].sh_offset, raw[strndx].sh_size);
  sections_.reserve(count);
  for (const auto& sh : raw) {
    Section s{{}, sh.sh_type, sh.sh_flags, sh.sh_addr, sh.sh_offset, sh.sh_size, sh.sh_link, sh.sh_info,
              sh.sh_entsize};
    if (names) s.name = read_cstring(*names, sh.sh_name).value_or("");
    sections_.push_back(s);
  }
}

void ElfFile::parse_dynamic() {
  const Segment* dyn = segment(PT_DYNAMIC);
  if (dyn == nullptr) return;
  auto table = strict_subspan(bytes_, dyn->offset, dyn->filesz);
  if (!table) corrupt(fmt::format("PT_DYNAMIC at {:#x} lies outside the file", dyn->offset));
  for (uint64_t off = 0; off + sizeof(Elf64_Dyn) <= table->size(); off += sizeof(Elf64_Dyn)) {
    auto d = *read_at<Elf64_Dyn>(*table, off);
    if (d.d_tag == DT_NULL) break;
    dynamic_.emplace_back(d.d_tag, d.d_un.d_val);
  }
}

const Section* ElfFile::section(std::string_view name) const {
  for (const auto& s : sections_)
    if (s.name == name) return &s;
  return nullptr;
}

const Segment* ElfFile::segment(uint32_t type) const {
  for (const auto& s : segments_)
    if (s.type == type) return &s;
  return nullptr;
}

std::optional<std::span<const std::byte>> ElfFile::section_bytes(const Section& s) const {
  if (s.type == SHT_NOBITS) return std::nullopt;
  return strict_subspan(bytes_, s.offset, s.size);
}

std::optional<uint64_t> ElfFile::vaddr_to_offset(uint64_t vaddr) const {
  for (const auto& seg : segments_) {
    if (seg.type != PT_LOAD || vaddr < seg.vaddr) continue;
    uint64_t delta = vaddr - seg.vaddr;
    if (delta < seg.filesz) return checked_add(seg.offset, delta);
  }
  return std::nullopt;
}

std::optional<std::span<const std::byte>> ElfFile::bytes_at_vaddr(uint64_t vaddr, uint64_t size) const {
  for (const auto& seg : segments_) {
    if (seg.type != PT_LOAD || vaddr < seg.vaddr) continue;
    uint64_t delta = vaddr - seg.vaddr;
    if (delta >= seg.filesz || size > seg.filesz - delta) continue;
    auto off = checked_add(seg.offset, delta);
    if (!off) return std::nullopt;
    return strict_subspan(bytes_, *off, size);
  }
  return std::nullopt;
}

std::optional<std::span<const std::byte>> ElfFile::bytes_at_vaddr_upto(uint64_t vaddr, uint64_t max_size) const {
  for (const auto& seg : segments_) {
    if (seg.type != PT_LOAD || vaddr < seg.vaddr || vaddr - seg.vaddr >= seg.filesz) continue;
    uint64_t delta = vaddr - seg.vaddr;
    return bytes_at_vaddr(vaddr, std::min(max_size, seg.filesz - delta));
  }
  return std::nullopt;
}

std::optional<uint64_t> ElfFile::dynamic_value(int64_t tag) const {
  for (const auto& [t, v] : dynamic_)
    if (t == tag) return v;
  return std::nullopt;
}

std::vector<uint64_t> ElfFile::dynamic_values(int64_t tag) const {
  std::vector<uint64_t> out;
  for (const auto& [t, v] : dynamic_)
    if (t == tag) out.push_back(v);
  return out;
}

std::optional<std::string_view> ElfFile::dynamic_string(uint64_t offset) const {
  auto strtab = dynamic_value(DT_STRTAB);
  auto strsz = dynamic_value(DT_STRSZ);
  if (!strtab || !strsz) return std::nullopt;
  auto table = bytes_at_vaddr(*strtab, *strsz);
  if (!table) return std::nullopt;
  return read_cstring(*table, offset);
}

std::optional<std::string_view> ElfFile::interpreter() const {
  const Segment* in = segment(PT_INTERP);
  if (in == nullptr) return std::nullopt;
  auto b = strict_subspan(bytes_, in->offset, in->filesz);
  if (!b) return std::nullopt;
  return read_cstring(*b, 0);
}

}  // namespace coldstart::elf
