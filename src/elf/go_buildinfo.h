// The Go build information blob (.go.buildinfo) that `go version -m` prints.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "elf/elf_file.h"

namespace coldstart::elf {

/// One module line of the build info ("mod", "dep"), with its replacement ("=>").
struct GoModule {
  std::string path;
  std::string version;
  std::string sum;
  std::string replaced_by_path;  // empty unless a "=>" line follows
  std::string replaced_by_version;
};

/// GoBuildInfo is what the Go linker embedded about a binary: the toolchain
/// version, the main package and module, dependencies and build settings.
struct GoBuildInfo {
  std::string go_version;           // "go1.19.8"
  std::string format;               // "inline" (Go >= 1.18) or "pointer" (older)
  unsigned pointer_size = 0;        // 4 or 8
  std::string path;                 // main package path
  std::optional<GoModule> main;     // "mod" line
  std::vector<GoModule> deps;       // "dep" lines
  std::vector<std::pair<std::string, std::string>> settings;  // "build" key=value, unquoted
  std::vector<std::string> modinfo_lines;  // the raw lines, as `go version -m` prints them

  /// Value of a build setting ("CGO_ENABLED", "-buildmode", "GOAMD64"), if present.
  std::optional<std::string> setting(std::string_view key) const;
};

/// Reads `size` bytes at a virtual address of the binary (for the pointer format).
using VaddrReader = std::function<std::optional<std::span<const std::byte>>(uint64_t vaddr, uint64_t size)>;

/// Parses the blob from `region`, the first bytes (Go reads 64 KiB) of the
/// .go.buildinfo section or the first writable data segment: finds the
/// 16-byte-aligned "\xff Go buildinf:" header and decodes either format.
/// nullopt when there is no (valid) blob: not a Go binary (or Go < 1.13).
std::optional<GoBuildInfo> parse_go_buildinfo(std::span<const std::byte> region, const VaddrReader& read);

/// Finds and parses the blob of an ELF file the way debug/buildinfo does.
std::optional<GoBuildInfo> read_go_buildinfo(const ElfFile& file);

/// Splits the module-info text into `info` (path, mod, dep, =>, build lines).
void parse_go_modinfo(std::string_view text, GoBuildInfo& info);

}  // namespace coldstart::elf
