// Helpers for the elf tests: the fixtures, ELF files of /usr/bin, compiling
// small C programs, and writing crafted ELF headers.
#pragma once

#include <elf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/file.h"
#include "elf/elf_file.h"
#include "test_util.h"

namespace coldstart::test {

inline std::vector<std::string> elf_fixtures() {
  std::vector<std::string> out;
  for (const char* n : {"user-service", "go-user-service-static", "go-user-service-cgo", "go-user-service-pie",
                        "go-user-service-extstatic", "noop-static"})
    out.push_back(fixture(n));
  return out;
}

/// Every regular file of /usr/bin that is an ELF64 x86-64 image, sorted.
inline std::vector<std::string> usr_bin_elves() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator("/usr/bin")) {
    std::error_code ec;
    if (!e.is_regular_file(ec) || e.is_symlink(ec)) continue;
    std::ifstream in(e.path(), std::ios::binary);
    char head[20] = {};
    in.read(head, sizeof head);
    if (in.gcount() < 20) continue;
    auto id = elf::read_ident(std::as_bytes(std::span(head)));
    if (id && elf::is_supported(*id)) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Every k-th element so that at least `n` remain (deterministic sample).
inline std::vector<std::string> sample(const std::vector<std::string>& all, size_t n) {
  if (all.size() <= n) return all;
  std::vector<std::string> out;
  size_t step = all.size() / n;
  for (size_t i = 0; i < all.size(); i += step) out.push_back(all[i]);
  return out;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// A minimal ELF header of the given class/byte order/machine/type (no tables).
inline std::string crafted_elf(unsigned cls, unsigned data, unsigned machine, unsigned type = ET_DYN) {
  std::string b(64, '\0');
  b[0] = 0x7f, b[1] = 'E', b[2] = 'L', b[3] = 'F';
  b[EI_CLASS] = static_cast<char>(cls);
  b[EI_DATA] = static_cast<char>(data);
  b[EI_VERSION] = EV_CURRENT;
  auto put16 = [&](size_t at, unsigned v) {
    if (data == ELFDATA2MSB) b[at] = static_cast<char>(v >> 8), b[at + 1] = static_cast<char>(v);
    else b[at] = static_cast<char>(v), b[at + 1] = static_cast<char>(v >> 8);
  };
  put16(16, type);
  put16(18, machine);
  return b;
}

/// Compiles C source with gcc; returns the exit code of the compiler.
inline int compile_c(const std::string& dir, const std::string& name, const std::string& source,
                     const std::string& flags) {
  write_bytes(dir + "/" + name + ".c", source);
  auto r = run_shell("gcc -O1 -o '" + dir + "/" + name + "' '" + dir + "/" + name + ".c' " + flags);
  if (r.exit_code != 0) std::fprintf(stderr, "%s\n", r.err.c_str());
  return r.exit_code;
}

}  // namespace coldstart::test
