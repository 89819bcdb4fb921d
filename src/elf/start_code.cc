// Reading `main` out of glibc's x86-64 entry code (sysdeps/x86_64/start.S,
// linked into every glibc program as crt1.o / Scrt1.o / rcrt1.o).
//
// _start sets up the arguments of __libc_start_main(main, argc, argv, init,
// fini, rtld_fini, stack_end) and calls it; `main` goes into %rdi as one of
//   48 c7 c7 imm32     mov  $main, %rdi           (non-PIE)
//   48 8d 3d disp32    lea  main(%rip), %rdi      (PIE, or a relaxed GOT load)
//   48 8b 3d disp32    mov  main@GOTPCREL(%rip), %rdi  (the GOT slot holds main)
// followed by `call *__libc_start_main@GOTPCREL(%rip)` (ff 15) or a direct
// call (e8). The slot of the GOT form is filled by a relocation (RELATIVE
// addend in a PIE) or holds the address itself. We decode only the few
// instruction forms start.S emits before the call (endbr64, xor/mov between
// registers, push/pop, and-to-align, mov $imm, rip-relative lea/mov, syscall)
// and follow up to two jumps (entry code that runs something, then jumps to
// _start); anything else yields nullopt rather than a guess.
#include "core/bytes.h"
#include "elf/elf.h"
#include "elf/elf_file.h"

namespace coldstart::elf {
namespace {

// The word a GOT slot holds once loaded: its RELATIVE (or GLOB_DAT/64 with a
// defined symbol) relocation, else the file's bytes.
std::optional<uint64_t> got_value(const ElfFile& file, uint64_t slot) {
  auto rela = file.dynamic_value(DT_RELA);
  auto size = file.dynamic_value(DT_RELASZ);
  if (rela && size)
    if (auto bytes = file.bytes_at_vaddr(*rela, *size))
      for (uint64_t off = 0; off + sizeof(Elf64_Rela) <= bytes->size(); off += sizeof(Elf64_Rela)) {
        auto r = read_at<Elf64_Rela>(*bytes, off);
        if (r && r->r_offset == slot && ELF64_R_TYPE(r->r_info) == R_X86_64_RELATIVE)
          return static_cast<uint64_t>(r->r_addend);
      }
  auto b = file.bytes_at_vaddr(slot, 8);
  if (!b) return std::nullopt;
  auto v = read_at<uint64_t>(*b, 0);
  if (!v || *v == 0) return std::nullopt;
  return v;
}

bool executable_address(const ElfFile& file, uint64_t vaddr) {
  for (const auto& seg : file.segments())
    if (seg.type == PT_LOAD && (seg.flags & PF_X) && vaddr >= seg.vaddr && vaddr - seg.vaddr < seg.filesz) return true;
  return false;
}

}  // namespace

std::optional<LibcStartCall> find_libc_start_call(const std::string& path) {
  ElfFile file = ElfFile::open(path);
  if (!file.interpreter()) return std::nullopt;  // static: no libc argument read at run time either
  uint64_t pc = file.header().e_entry;
  std::optional<uint64_t> main, slot;
  int jumps = 0;
  for (int steps = 0; steps < 32; ++steps) {
    auto code = file.bytes_at_vaddr_upto(pc, 16);
    if (!code) return std::nullopt;
    auto u8 = [&](uint64_t i) -> int {
      auto v = read_at<uint8_t>(*code, i);
      return v ? *v : -1;
    };
    auto rel32 = [&](uint64_t i) -> std::optional<int64_t> {
      auto v = read_at<int32_t>(*code, i);
      if (!v) return std::nullopt;
      return static_cast<int64_t>(*v);
    };
    uint64_t i = 0;
    if (u8(0) == 0xf3 && u8(1) == 0x0f && u8(2) == 0x1e && u8(3) == 0xfa) {  // endbr64
      pc += 4;
      continue;
    }
    int rex = (u8(0) & 0xf0) == 0x40 ? u8(0) : 0;
    if (rex) i = 1;
    int op = u8(i), modrm = u8(i + 1);
    auto disp = rel32(i + 2);
    if (op == 0xe8) break;  // the call of __libc_start_main: %rdi is set
    if (op == 0xff && modrm == 0x15) {
      if (disp) slot = pc + i + 6 + static_cast<uint64_t>(*disp);
      break;
    }
    if (op == 0xe9 || op == 0xeb) {                          // entry code that stamps, then jumps to _start
      auto d = op == 0xe9 ? rel32(i + 1) : std::optional<int64_t>(static_cast<int8_t>(u8(i + 1)));
      if (!d || ++jumps > 2) return std::nullopt;
      pc += i + (op == 0xe9 ? 5 : 2) + static_cast<uint64_t>(*d);
      continue;
    }
    uint64_t len = 0;
    if (op == 0x0f && modrm == 0x05) len = 2;                                          // syscall
    else if (op >= 0x50 && op <= 0x5f) len = 1;                                        // push, pop
    else if ((op == 0x31 || op == 0x89 || op == 0x29 || op == 0x85) && (modrm & 0xc0) == 0xc0) len = 2;  // reg, reg
    else if (op == 0x83 && (modrm & 0xc0) == 0xc0) len = 3;                            // and $imm8, reg
    else if (op >= 0xb8 && op <= 0xbf) len = rex & 8 ? 9 : 5;                          // mov $imm, reg
    else if (op == 0xc7 && (modrm & 0xc0) == 0xc0) {                                   // mov $imm32, reg
      len = 6;
      auto imm = rel32(i + 2);
      if (rex == 0x48 && modrm == 0xc7 && imm) main = static_cast<uint64_t>(*imm);       // ... into %rdi
    } else if ((op == 0x8d || op == 0x8b) && (modrm & 0xc7) == 0x05 && disp) {         // lea/mov disp(%rip), reg
      len = 6;
      uint64_t target = pc + i + 6 + static_cast<uint64_t>(*disp);
      if (rex == 0x48 && modrm == 0x3d) main = op == 0x8d ? std::optional<uint64_t>(target) : got_value(file, target);
    } else {
      return std::nullopt;  // not the entry code we know
    }
    pc += i + len;
  }
  if (!main || !executable_address(file, *main)) return std::nullopt;
  auto off = file.vaddr_to_offset(*main);
  if (!off) return std::nullopt;
  return LibcStartCall{SymbolLocation{*main, *off, 0}, slot};
}

}  // namespace coldstart::elf
