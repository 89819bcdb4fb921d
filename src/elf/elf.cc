// The public summary API (elf.h) and the facts it shares with inspect.
//
// Notes (gABI "Note Section"): each note is namesz, descsz, type (4 bytes
// each), then the name padded to 4 and the descriptor padded to 4. GNU's
// build id is name "GNU", type NT_GNU_BUILD_ID (3); the Go linker writes a
// note named "Go" of type 4 with its own build id (.note.go.buildid).
// Image kind: ET_EXEC is a fixed-address executable; ET_DYN with PT_INTERP is
// a PIE; ET_DYN with DF_1_PIE but no PT_INTERP is a static PIE (glibc's and
// musl's -static-pie set DF_1_PIE); any other ET_DYN is a shared object.
#include "elf/elf.h"

#include <fmt/format.h>

#include "core/bytes.h"
#include "core/error.h"
#include "elf/facts.h"
#include "elf/go_buildinfo.h"
#include "elf/go_pclntab.h"
#include "elf/resolve.h"
#include "elf/symbols.h"

namespace coldstart::elf {
namespace {

constexpr uint32_t kGoBuildIdNote = 4;

// Calls fn(name, type, desc) for every note in `data`.
template <typename Fn>
void for_each_note(std::span<const std::byte> data, Fn&& fn) {
  uint64_t off = 0;
  while (off + 12 <= data.size()) {
    uint32_t namesz = *read_at<uint32_t>(data, off), descsz = *read_at<uint32_t>(data, off + 4);
    uint32_t type = *read_at<uint32_t>(data, off + 8);
    uint64_t name_off = off + 12;
    uint64_t desc_off = name_off + ((uint64_t{namesz} + 3) & ~uint64_t{3});
    auto name = strict_subspan(data, name_off, namesz);
    auto desc = strict_subspan(data, desc_off, descsz);
    if (!name || !desc) return;
    std::string_view n = as_chars(*name);
    if (!n.empty() && n.back() == '\0') n.remove_suffix(1);
    if (fn(n, type, *desc)) return;
    off = desc_off + ((uint64_t{descsz} + 3) & ~uint64_t{3});
  }
}

template <typename Fn>
void for_each_note(const ElfFile& file, Fn&& fn) {
  bool any_segment = false;
  bool stop = false;
  auto visit = [&](std::span<const std::byte> data) {
    for_each_note(data, [&](std::string_view n, uint32_t t, std::span<const std::byte> d) {
      return stop = fn(n, t, d);
    });
  };
  for (const auto& seg : file.segments()) {
    if (seg.type != PT_NOTE || stop) continue;
    any_segment = true;
    if (auto b = strict_subspan(file.bytes(), seg.offset, seg.filesz)) visit(*b);
  }
  if (any_segment) return;
  for (const auto& s : file.sections()) {
    if (s.type != SHT_NOTE || stop) continue;
    if (auto b = file.section_bytes(s)) visit(*b);
  }
}

}  // namespace

std::string_view kind_name(ImageKind kind) {
  switch (kind) {
    case ImageKind::kExecutable: return "executable";
    case ImageKind::kPie: return "pie";
    case ImageKind::kStaticPie: return "static-pie";
    case ImageKind::kSharedObject: return "shared-object";
    case ImageKind::kOther: return "other";
  }
  return "other";
}

ImageKind image_kind(const ElfFile& file) {
  uint16_t type = file.header().e_type;
  if (type == ET_EXEC) return ImageKind::kExecutable;
  if (type != ET_DYN) return ImageKind::kOther;
  bool interp = file.segment(PT_INTERP) != nullptr;
  bool pie_flag = (file.dynamic_value(DT_FLAGS_1).value_or(0) & DF_1_PIE) != 0;
  if (interp) return ImageKind::kPie;
  if (pie_flag) return ImageKind::kStaticPie;
  return ImageKind::kSharedObject;
}

std::string build_id(const ElfFile& file) {
  std::string hex;
  for_each_note(file, [&](std::string_view name, uint32_t type, std::span<const std::byte> desc) {
    if (name != "GNU" || type != NT_GNU_BUILD_ID) return false;
    for (std::byte b : desc) hex += fmt::format("{:02x}", static_cast<unsigned>(b));
    return true;
  });
  return hex;
}

bool has_go_markers(const ElfFile& file) {
  if (file.section(".go.buildinfo") != nullptr || file.section(".note.go.buildid") != nullptr) return true;
  bool go = false;
  for_each_note(file, [&](std::string_view name, uint32_t type, std::span<const std::byte>) {
    return go = name == "Go" && type == kGoBuildIdNote;
  });
  return go;
}

bool contains_in_rodata(const ElfFile& file, std::string_view needle) {
  auto search = [&](std::span<const std::byte> data) { return as_chars(data).find(needle) != std::string_view::npos; };
  if (!file.sections().empty()) {
    for (const auto& s : file.sections()) {
      if (s.type != SHT_PROGBITS || (s.flags & SHF_ALLOC) == 0 || (s.flags & (SHF_WRITE | SHF_EXECINSTR)) != 0)
        continue;
      if (auto b = file.section_bytes(s); b && search(*b)) return true;
    }
    return false;
  }
  for (const auto& seg : file.segments()) {
    if (seg.type != PT_LOAD || (seg.flags & (PF_W | PF_X)) != 0) continue;
    if (auto b = strict_subspan(file.bytes(), seg.offset, seg.filesz); b && search(*b)) return true;
  }
  return false;
}

ElfInfo read_elf(const std::string& path) {
  ElfFile file = ElfFile::open(path);
  ElfInfo info;
  info.path = path;
  info.machine = machine_name(file.header().e_machine);
  info.kind = image_kind(file);
  if (auto in = file.interpreter()) info.interpreter = std::string(*in);
  info.is_static = info.interpreter.empty();
  info.entry = file.header().e_entry;
  info.entry_file_offset = file.vaddr_to_offset(info.entry);
  info.build_id = build_id(file);
  info.stripped = file.section(".symtab") == nullptr;
  auto go = read_go_buildinfo(file);
  info.is_go = go.has_value() || has_go_markers(file);
  if (go) info.go_version = go->go_version;
  return info;
}

std::optional<SymbolLocation> find_symbol(const std::string& path, std::string_view name) {
  ElfFile file = ElfFile::open(path);
  auto sym = lookup_symbol(file, name);
  if (!sym) return std::nullopt;
  auto off = file.vaddr_to_offset(sym->value);
  if (!off) return std::nullopt;
  return SymbolLocation{sym->value, *off, sym->size};
}

std::optional<SymbolLocation> find_go_function(const std::string& path, std::string_view name) {
  ElfFile file = ElfFile::open(path);
  auto table = read_go_functions(file);
  if (!table) return std::nullopt;
  const GoFunction* f = table->find(name);
  if (f == nullptr) return std::nullopt;
  auto off = file.vaddr_to_offset(f->entry);
  if (!off) return std::nullopt;
  return SymbolLocation{f->entry, *off, f->size};
}

std::optional<FileSpan> go_function_table_span(const std::string& path) {
  try {
    ElfFile file = ElfFile::open(path);
    if (const Section* s = file.section(".gopclntab"); s != nullptr && s->type != SHT_NOBITS)
      return FileSpan{s->offset, s->size};
    // The moduledata search reads every non-executable segment: only for Go
    // (libLLVM's 100 MiB cost 128 ms for nothing).
    if (!has_go_markers(file)) return std::nullopt;
    auto table = read_go_functions(file);
    if (!table) return std::nullopt;
    auto off = file.vaddr_to_offset(table->vaddr);
    if (!off) return std::nullopt;
    return FileSpan{*off, table->extent};
  } catch (const UserError&) {
    return std::nullopt;  // not ELF, not x86-64, unreadable: no table to tell of
  }
}

bool has_string(const std::string& path, std::string_view needle) {
  return contains_in_rodata(ElfFile::open(path), needle);
}

std::vector<std::string> resolve_libraries(const std::string& path) {
  DependencyTree tree = resolve_dependencies(path, LoaderEnv::from_process());
  std::vector<std::string> out;
  for (size_t i = 1; i < tree.objects.size(); ++i) out.push_back(tree.objects[i].path);
  return out;
}

}  // namespace coldstart::elf
