// Resolving DT_NEEDED recursively, the way glibc's ld.so does.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "elf/ld_cache.h"

namespace coldstart::elf {

/// What the loader's search depends on besides the files themselves.
struct LoaderEnv {
  std::vector<std::string> ld_library_path;  // split LD_LIBRARY_PATH (empty element = ".")
  std::string platform;                      // $PLATFORM as ld.so computes it, e.g. "haswell"
  bool avx512_1 = false;                     // legacy "avx512_1" capability subdirectory
  std::string lib = "lib/x86_64-linux-gnu";  // $LIB as Debian's ld.so expands it
  std::vector<std::string> default_dirs;     // the "system search path"
  std::vector<std::string> hwcaps_subdirs;   // glibc-hwcaps/x86-64-vN this CPU supports, best first
  std::shared_ptr<const LdCache> cache;

  /// The environment of this process: LD_LIBRARY_PATH, AT_PLATFORM, the CPU's
  /// x86-64 levels, /etc/ld.so.cache and Debian's default directories.
  static LoaderEnv from_process();
};

/// How a library was found (the step of ld.so's search that produced it).
enum class FoundVia { kMain, kPath, kRpath, kLdLibraryPath, kRunpath, kCache, kDefaultDir, kNotFound };
std::string_view found_via_name(FoundVia via);

/// One DT_NEEDED entry of an object and what it resolved to.
struct Need {
  std::string name;
  int object = -1;  // index into DependencyTree::objects, -1 if unresolved
};

/// One object of the load: the main binary (index 0) or a library.
struct LoadedObject {
  std::string name;  // the DT_NEEDED string that first loaded it (the path for the main binary)
  std::string path;  // the file opened (as ld.so would name it, not canonicalised)
  FoundVia via = FoundVia::kMain;
  int loaded_by = -1;
  unsigned depth = 0;
  std::vector<Need> needs;
};

/// A DT_NEEDED name the search did not find, and who needed it.
struct Unresolved {
  std::string name;
  std::string needed_by;  // path of the object with the DT_NEEDED
  std::string reason;     // "not found", "wrong ELF class/machine: /x", "corrupt: ..."
};

/// DependencyTree is the result of one resolution: objects in ld.so's load
/// order (breadth first, each file once), the edges as `needs`, and the
/// names that could not be found.
struct DependencyTree {
  std::vector<LoadedObject> objects;
  std::vector<Unresolved> unresolved;
  std::string interpreter;  // PT_INTERP of the main binary ("" if static)
};

/// Resolves the libraries of the binary at `path` as ld.so would with `env`.
/// Requires: `path` is a readable x86-64 ELF64 (callers opened it already).
/// Libraries that cannot be read or parsed become Unresolved, never an error.
DependencyTree resolve_dependencies(const std::string& path, const LoaderEnv& env);

}  // namespace coldstart::elf
