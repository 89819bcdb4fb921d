// The small public API of the elf layer for the other layers (bench, trace,
// prewarm, lint): what a binary is, where its entry point and main are, which
// strings it carries, and which library files a start of it maps.
// `coldstart inspect` uses the fuller model of elf/inspect.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coldstart::elf {

/// What kind of image the ELF type + dynamic flags say it is.
enum class ImageKind { kExecutable, kPie, kStaticPie, kSharedObject, kOther };

/// "executable", "pie", "static-pie", "shared-object", "other".
std::string_view kind_name(ImageKind kind);

/// ElfInfo is the summary of one binary other layers need to plan a launch:
/// read once with read_elf(), then used without touching the file again.
struct ElfInfo {
  std::string path;
  std::string machine;            // "x86-64"
  ImageKind kind = ImageKind::kOther;
  bool is_static = false;         // no PT_INTERP (static or static-pie)
  std::string interpreter;        // PT_INTERP, empty when static
  uint64_t entry = 0;             // e_entry (virtual address)
  std::optional<uint64_t> entry_file_offset;  // for a uprobe at the entry point
  std::string build_id;           // hex of NT_GNU_BUILD_ID, empty if none
  bool stripped = false;          // no .symtab
  bool is_go = false;             // has .go.buildinfo or a Go build-id note
  std::string go_version;         // "go1.19.8" when the build info says so
};

/// Reads the summary of `path`. Throws UserError for a missing, unreadable,
/// non-ELF, truncated/corrupt, 32-bit or non-x86-64 file (one line naming it).
ElfInfo read_elf(const std::string& path);

/// Where a symbol lives: its virtual address and the file offset of that
/// address (what perf_event_open's uprobe wants), and its size.
struct SymbolLocation {
  uint64_t vaddr = 0;
  uint64_t file_offset = 0;
  uint64_t size = 0;
};

/// Looks `name` up (e.g. "main", "main.main") in .symtab, then .dynsym, as a
/// defined function or object. nullopt when absent (stripped binaries).
/// Throws UserError like read_elf for bad files.
std::optional<SymbolLocation> find_symbol(const std::string& path, std::string_view name);

/// Looks `name` up in the Go function table (pclntab, elf/go_pclntab.h),
/// which stripped Go binaries keep. nullopt when not Go or not there.
/// Throws like read_elf.
std::optional<SymbolLocation> find_go_function(const std::string& path, std::string_view name);

/// A byte range of a file.
struct FileSpan {
  uint64_t offset = 0;
  uint64_t size = 0;
};

/// Where a Go binary's function table (pclntab) lies in the file: the
/// .gopclntab section, or the table read_go_functions finds through the
/// moduledata. nullopt when `path` is not an ELF image this build reads, not
/// Go, or has no table. Never throws: prewarm record asks it of every file.
std::optional<FileSpan> go_function_table_span(const std::string& path);

/// A glibc program's call of __libc_start_main in its entry code (crt1's
/// _start): the first argument it passes (main), and the GOT slot it calls
/// through, which holds __libc_start_main's address in the mapped libc once
/// the loader has run (so a debugger stopped at the entry point needs one
/// read to find it).
struct LibcStartCall {
  SymbolLocation main;
  std::optional<uint64_t> libc_start_slot;  // vaddr of the GOT slot; nullopt for a direct call
};

/// Decodes `path`'s entry code for that call. nullopt when the entry code is
/// not glibc's x86-64 _start (static musl, Go, a custom entry that does not
/// jump to it). Throws like read_elf.
std::optional<LibcStartCall> find_libc_start_call(const std::string& path);

/// True if the bytes `needle` occur in the binary's read-only data
/// (.rodata/.data.rel.ro and friends, or the non-executable read-only
/// segments when there are no section headers). Throws like read_elf.
bool has_string(const std::string& path, std::string_view needle);

/// Every file a start of `path` maps, resolved as ld.so does (see
/// elf/resolve.h): the interpreter first, then the libraries in load order,
/// each path once. Unresolvable libraries are left out (inspect reports them).
/// Empty for static binaries. Throws like read_elf.
std::vector<std::string> resolve_libraries(const std::string& path);

}  // namespace coldstart::elf
