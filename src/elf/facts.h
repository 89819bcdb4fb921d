// Small facts about an ElfFile shared by read_elf() and inspect: image kind,
// build id, Go-ness, and searching read-only data for strings.
#pragma once

#include <string>
#include <string_view>

#include "elf/elf.h"
#include "elf/elf_file.h"

namespace coldstart::elf {

ImageKind image_kind(const ElfFile& file);

/// Hex of the NT_GNU_BUILD_ID note (from PT_NOTE segments, else SHT_NOTE sections); "" if none.
std::string build_id(const ElfFile& file);

/// True when the Go toolchain built it: a .go.buildinfo section, or a "Go" build-id note.
bool has_go_markers(const ElfFile& file);

/// True if `needle` occurs in a read-only, non-executable allocated section
/// (or read-only PT_LOAD segment when section headers are missing).
bool contains_in_rodata(const ElfFile& file, std::string_view needle);

}  // namespace coldstart::elf
