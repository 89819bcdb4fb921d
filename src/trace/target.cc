// Phase boundaries of a program from its ELF file (elf layer). The entry
// point always exists. `main` (C, C++) or `main.main` (Go), in this order:
//   symtab         .symtab / .dynsym, when the binary keeps them;
//   pclntab        Go's function table, which stripped Go binaries keep;
//   libc argument  a dynamic glibc program passes main to __libc_start_main
//                  as its first argument: _start's load of %rdi gives the
//                  address before the launch (a uprobe must be in place
//                  before main runs), and the backends read the argument
//                  at __libc_start_main's entry in the mapped libc to check it.
// A static binary without symbols has no libc to ask: the note says so.
// A uprobe needs the file offset of an address, a ptrace breakpoint the
// virtual address (plus the load base for PIE).
#include <cstdio>
#include <filesystem>

#include "core/bytes.h"
#include "core/file.h"
#include "elf/elf.h"
#include "trace/go_gc.h"
#include "trace/tracer.h"

namespace coldstart::trace {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// The libc.so.6 the loader will map for `program`, and __libc_start_main in it.
void find_libc_start(const std::string& program, TraceTarget& target) {
  for (const auto& lib : elf::resolve_libraries(program)) {
    if (std::filesystem::path(lib).filename().string().rfind("libc.so", 0) != 0) continue;
    if (auto loc = elf::find_symbol(lib, "__libc_start_main")) {
      target.libc_path = lib;
      target.libc_start_vaddr = loc->vaddr;
      target.libc_start_offset = loc->file_offset;
    }
    return;
  }
}

// A Go function by name: the symbol table first. Stripped binaries keep only
// the Go function table (.gopclntab); its reader (elf::find_go_function,
// issue 14) plugs in here, the one place that needs it.
std::optional<elf::SymbolLocation> find_go_function_location(const std::string& program, std::string_view name) {
  if (auto sym = elf::find_symbol(program, name)) return sym;
  return elf::find_go_function(program, name);
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
  std::optional<elf::SymbolLocation> loc = elf::find_symbol(program, symbol);
  if (loc) target.main_source = "symtab";
  if (!loc && info.is_go && (loc = elf::find_go_function(program, symbol))) target.main_source = "pclntab";
  if (!loc && !info.is_go && !info.is_static) {
    find_libc_start(program, target);
    if (auto call = elf::find_libc_start_call(program)) {
      loc = call->main;
      target.main_source = "libc argument";
      target.libc_start_slot = call->libc_start_slot;
    }
  }
  if (loc) {
    target.main_symbol = symbol;
    target.main_vaddr = loc->vaddr;
    target.main_offset = loc->file_offset;
  } else if (info.is_static) {
    target.notes.push_back(std::string("static binary without a symbol for ") + symbol +
                           ": no libc to ask, so the entry-to-ready span is one phase");
  } else {
    target.notes.push_back(std::string("no symbol for ") + symbol + " and no glibc _start to read it from");
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

void check_libc_argument(const TraceTarget& target, TraceLog& log) {
  if (!log.libc_main_arg || !target.main_vaddr) return;
  if (*log.libc_main_arg == *target.main_vaddr) return;
  log.notes.push_back("__libc_start_main was passed main at " + hex(*log.libc_main_arg) + ", not at " +
                      hex(*target.main_vaddr) + " where _start's code said: main boundary dropped");
  if (target.main_source == "libc argument") {
    log.main_ns.reset();
    log.main_symbol.clear();
    log.main_source.clear();
  }
}

}  // namespace coldstart::trace
