// The function table of a Go binary (its pclntab): every function's name,
// entry address and size, which Go keeps in stripped builds too because the
// runtime needs it for tracebacks. trace places phase boundaries (main.main)
// and uprobes (runtime.gcStart, ...) on it when .symtab is gone.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elf/elf_file.h"

namespace coldstart::elf {

/// One function of the table. `entry` is a virtual address of the binary;
/// `size` runs to the next function's entry (or the table's end).
struct GoFunction {
  std::string name;
  uint64_t entry = 0;
  uint64_t size = 0;
};

/// How the table was located in the file.
enum class PclntabSource {
  kSection,     // the .gopclntab section
  kModuledata,  // no such section (PIE, external link): the header found in read-only
                // data and confirmed by runtime.firstmoduledata's pointer to it
};

/// ".gopclntab section" or "moduledata".
std::string_view pclntab_source_name(PclntabSource source);

/// GoFunctionTable is a Go binary's function table, decoded once from the
/// pclntab (formats of Go 1.2, 1.16, 1.18 and 1.20+, as debug/gosym reads
/// them) and then looked up by name or by address. It owns its strings: it
/// does not keep the file's bytes alive or borrow them.
class GoFunctionTable {
 public:
  /// Decodes the pclntab in `table` (from its header to at most the end of
  /// the section/segment it lives in). `text_start` is the address of .text,
  /// used by Go >= 1.18 tables whose header leaves textStart 0. nullopt for
  /// anything that is not a well-formed table: unknown magic, a header or an
  /// entry outside `table`, entries not in address order.
  static std::optional<GoFunctionTable> parse(std::span<const std::byte> table, uint64_t text_start = 0);

  /// "1.2", "1.16", "1.18" or "1.20" (the table format, not the toolchain:
  /// the 1.20 format is also that of every later release so far).
  std::string_view format() const { return format_; }
  unsigned pointer_size() const { return pointer_size_; }
  /// Functions in address order.
  const std::vector<GoFunction>& functions() const { return functions_; }
  size_t size() const { return functions_.size(); }

  /// The function called exactly `name` ("main.main", "runtime.gcStart").
  /// A name can have several entries: Go's ABI wrappers (the symbol table
  /// calls them `<name>.abi0`) carry the plain name in the pclntab. This is
  /// the lowest address among them; find_all() gives every one.
  const GoFunction* find(std::string_view name) const;
  std::vector<const GoFunction*> find_all(std::string_view name) const;
  /// The function whose [entry, entry+size) holds `address`.
  const GoFunction* containing(uint64_t address) const;

  /// Where read_go_functions found it, and the table's virtual address.
  PclntabSource source = PclntabSource::kSection;
  uint64_t vaddr = 0;
  /// Bytes from the header to the end of the last function record read: the
  /// table's extent when no section header gives it (the records come last).
  uint64_t extent = 0;

 private:
  GoFunctionTable() = default;
  std::string format_;
  unsigned pointer_size_ = 0;
  std::vector<GoFunction> functions_;
  std::vector<uint32_t> by_name_;  // indices into functions_, sorted by name
};

/// Finds and decodes the pclntab of an ELF file: the .gopclntab section, or
/// (none in Go >= 1.18 PIE / externally linked builds) a pclntab header in
/// the read-only data that a moduledata in the writable data points to.
/// nullopt when the file has no Go function table (not Go, or damaged).
std::optional<GoFunctionTable> read_go_functions(const ElfFile& file);

}  // namespace coldstart::elf
