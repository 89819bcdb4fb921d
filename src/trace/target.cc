// Phase boundaries of a program from its ELF file (elf layer): the entry
// point always exists; `main` (C, C++) or `main.main` (Go) only with symbols.
// A uprobe needs the file offset of the address, a ptrace breakpoint the
// virtual address (plus the load base for PIE).
#include "elf/elf.h"
#include "trace/tracer.h"

namespace coldstart::trace {

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
  return target;
}

}  // namespace coldstart::trace
