// Phase boundaries of a program from its ELF file (elf layer): the entry
// point always exists; `main` (C, C++) or `main.main` (Go) only with symbols.
// A uprobe needs the file offset of the address, a ptrace breakpoint the
// virtual address (plus the load base for PIE).
#include "core/bytes.h"
#include "core/file.h"
#include "elf/elf.h"
#include "trace/go_gc.h"
#include "trace/tracer.h"

namespace coldstart::trace {
namespace {

// A Go function by name: the symbol table first. Stripped binaries keep only
// the Go function table (.gopclntab); its reader (elf::find_go_function,
// issue 14) plugs in here, the one place that needs it.
std::optional<elf::SymbolLocation> find_go_function_location(const std::string& program, std::string_view name) {
  return elf::find_symbol(program, name);
}

// The instruction after startTheWorldWithSema's one call of nanotime1
// (`startTime := nanotime()`, the instant the runtime calls the end of the
// pause): the E8 rel32 call whose target is runtime.nanotime1. Entry of the
// function when there is not exactly one such call.
uint64_t after_pause_clock(const std::string& program, const elf::SymbolLocation& fn) {
  auto clock = find_go_function_location(program, "runtime.nanotime1");
  if (!clock || fn.size == 0) return fn.file_offset;
  Mapping map = Mapping::map_file(program);
  std::span<const std::byte> bytes = map.bytes();
  std::optional<uint64_t> found;
  for (uint64_t i = 0; i + 5 <= fn.size; ++i) {
    auto op = read_at<uint8_t>(bytes, fn.file_offset + i);
    auto rel = read_at<int32_t>(bytes, fn.file_offset + i + 1);
    if (!op || !rel || *op != 0xE8) continue;
    if (fn.vaddr + i + 5 + static_cast<uint64_t>(static_cast<int64_t>(*rel)) != clock->vaddr) continue;
    if (found) return fn.file_offset;  // two calls: not the shape we know
    found = fn.file_offset + i + 5;
  }
  return found.value_or(fn.file_offset);
}

}  // namespace

TraceTarget describe_target(const std::string& program) {
  elf::ElfInfo info = elf::read_elf(program);
  TraceTarget target;
  target.program = program;
  target.entry_vaddr = info.entry;
  target.entry_offset = info.entry_file_offset;
  target.pie = info.kind == elf::ImageKind::kPie || info.kind == elf::ImageKind::kStaticPie;
  target.is_go = info.is_go;
  const char* symbol = info.is_go ? "main.main" : "main";
  if (auto loc = elf::find_symbol(program, symbol)) {
    target.main_symbol = symbol;
    target.main_vaddr = loc->vaddr;
    target.main_offset = loc->file_offset;
  }
  target.go_version = info.go_version;
  if (info.is_go) {
    if (auto set = gc_probe_set(info.go_version)) {
      for (const std::string* name : {&set->gc_start, &set->stop_the_world, &set->start_the_world, &set->mark_termination,
                                 &set->limiter_finish}) {
        auto loc = find_go_function_location(program, *name);
        if (!loc) {
          target.gc_probe_offsets.clear();
          break;
        }
        target.gc_probe_offsets.push_back(name == &set->start_the_world ? after_pause_clock(program, *loc)
                                                                         : loc->file_offset);
      }
    }
  }
  return target;
}

}  // namespace coldstart::trace
