// A zero-copy view of one ELF64 little-endian image: headers, sections,
// segments and the dynamic table, read in place from a mapping through the
// bounds-checked helpers of core/bytes.h.
#pragma once

#include <elf.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/file.h"

namespace coldstart::elf {

/// One section header, with its name resolved.
struct Section {
  std::string_view name;
  uint32_t type = 0;
  uint64_t flags = 0;
  uint64_t addr = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t link = 0;
  uint32_t info = 0;
  uint64_t entsize = 0;
};

/// One program header.
struct Segment {
  uint32_t type = 0;
  uint32_t flags = 0;
  uint64_t offset = 0;
  uint64_t vaddr = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
};

/// The identification bytes of any ELF file (any class, byte order, machine),
/// enough to say what it is and whether the loader of this host would take it.
struct ElfIdent {
  unsigned elf_class = 0;  // ELFCLASS32 / ELFCLASS64
  unsigned data = 0;       // ELFDATA2LSB / ELFDATA2MSB
  unsigned machine = 0;    // EM_*
  unsigned type = 0;       // ET_*
};

/// Reads the ELF identification of `bytes`; nullopt if it is not ELF at all.
std::optional<ElfIdent> read_ident(std::span<const std::byte> bytes);

/// "x86-64", "AArch64", "Intel 80386", or "machine 123".
std::string machine_name(unsigned machine);

/// True for the images this build of coldstart reads: ELF64, little endian, x86-64.
bool is_supported(const ElfIdent& ident);

/// ElfFile is a parsed, read-only view of one 64-bit little-endian x86-64 ELF
/// image. It owns the mapping (or borrows caller bytes, for fuzzing) and never
/// copies a section: accessors return spans into the image. Construction
/// validates the headers and throws UserError naming the file for anything
/// that is not such an image or whose header tables lie outside it.
class ElfFile {
 public:
  /// Maps and parses `path`. Throws UserError (missing, directory, not ELF,
  /// 32-bit/foreign, truncated, corrupt).
  static ElfFile open(const std::string& path);
  /// Parses caller-owned bytes that must outlive the ElfFile.
  static ElfFile parse(std::span<const std::byte> bytes, std::string name);

  const std::string& name() const { return name_; }
  std::span<const std::byte> bytes() const { return bytes_; }
  const Elf64_Ehdr& header() const { return ehdr_; }
  const std::vector<Section>& sections() const { return sections_; }
  const std::vector<Segment>& segments() const { return segments_; }

  /// The first section called `name`, or nullptr.
  const Section* section(std::string_view name) const;
  /// The first segment of type `type` (PT_*), or nullptr.
  const Segment* segment(uint32_t type) const;
  /// The file bytes of a section; nullopt for SHT_NOBITS or one outside the file.
  std::optional<std::span<const std::byte>> section_bytes(const Section& s) const;
  /// File offset of a virtual address inside some PT_LOAD's file part.
  std::optional<uint64_t> vaddr_to_offset(uint64_t vaddr) const;
  /// `size` file bytes at a virtual address, if all inside one PT_LOAD.
  std::optional<std::span<const std::byte>> bytes_at_vaddr(uint64_t vaddr, uint64_t size) const;
  /// Up to `max_size` file bytes from a virtual address to the end of its PT_LOAD's file part.
  std::optional<std::span<const std::byte>> bytes_at_vaddr_upto(uint64_t vaddr, uint64_t max_size) const;

  /// The dynamic table (tag, value) up to DT_NULL; empty for static images.
  const std::vector<std::pair<int64_t, uint64_t>>& dynamic() const { return dynamic_; }
  std::optional<uint64_t> dynamic_value(int64_t tag) const;
  std::vector<uint64_t> dynamic_values(int64_t tag) const;
  /// A string of DT_STRTAB at `offset`.
  std::optional<std::string_view> dynamic_string(uint64_t offset) const;
  /// The PT_INTERP path, if any.
  std::optional<std::string_view> interpreter() const;

 private:
  ElfFile() = default;
  void parse_headers();
  void parse_sections();
  void parse_segments();
  void parse_dynamic();
  [[noreturn]] void corrupt(const std::string& what) const;

  Mapping mapping_;
  std::span<const std::byte> bytes_;
  std::string name_;
  Elf64_Ehdr ehdr_{};
  std::vector<Section> sections_;
  std::vector<Segment> segments_;
  std::vector<std::pair<int64_t, uint64_t>> dynamic_;
};

}  // namespace coldstart::elf
