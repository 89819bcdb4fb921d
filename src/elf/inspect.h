// The model behind `coldstart inspect`: everything in a binary that costs
// start time, counted, plus findings that cite those counts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "elf/elf.h"
#include "elf/go_buildinfo.h"
#include "elf/go_pclntab.h"
#include "elf/relocations.h"
#include "elf/resolve.h"
#include "elf/symbols.h"

namespace coldstart::elf {

/// The per-object start-up work the loader does: relocations, binding, hashing, TLS.
struct ObjectCensus {
  std::string path;
  RelocationCensus relocations;
  SymbolCounts symbols;
  bool bind_now = false;   // DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW
  bool gnu_hash = false;   // DT_GNU_HASH
  bool sysv_hash = false;  // DT_HASH
  uint64_t dt_flags = 0;
  uint64_t dt_flags_1 = 0;
  uint64_t tls_memsz = 0;  // PT_TLS p_memsz: per-thread block size
  uint64_t tls_filesz = 0; // of which initialized from the file
  bool has_tls = false;
};

/// Whether the binary seems to speak the systemd start-up protocols.
struct ServiceHints {
  bool notify_socket = false;  // "NOTIFY_SOCKET" in read-only data
  bool listen_fds = false;     // "LISTEN_FDS"
  bool watchdog_usec = false;  // "WATCHDOG_USEC"
  bool links_libsystemd = false;  // a loaded library is libsystemd
};

/// One fact that costs start time, with the counted figure that shows it.
struct Finding {
  std::string id;        // stable key, e.g. "pie-relocations"
  std::string summary;   // "PIE: 17,571 relocations in 420 KB of RELA processed at every start"
};

/// What the Go function table (pclntab) says: how many functions, found how,
/// and the ones that run before main.main.
struct GoFunctionSummary {
  uint64_t count = 0;
  std::string source;   // ".gopclntab section" or "moduledata"
  std::string format;   // pclntab format "1.2" .. "1.20"
  bool has_main_main = false;
  uint64_t package_inits = 0;  // functions named <pkg>.init or <pkg>.init.N (run before main.main)
};

/// InspectReport is the result for one file; cli/inspect.cc prints it as text or JSON.
struct InspectReport {
  std::string path;
  uint64_t file_size = 0;
  std::string elf_class = "ELF64";
  std::string machine;
  ImageKind kind = ImageKind::kOther;
  bool is_static = false;
  std::string interpreter;
  uint64_t entry = 0;
  std::string build_id;
  bool stripped = false;
  uint64_t debug_bytes = 0;
  std::vector<std::pair<std::string, uint64_t>> debug_sections;
  std::string soname;
  std::vector<std::string> needed, rpath, runpath;

  ObjectCensus census;                 // of the binary itself
  DependencyTree dependencies;         // objects[0] is the binary
  std::vector<ObjectCensus> libraries; // census of each loaded library, in load order
  bool is_go = false;
  std::optional<GoBuildInfo> go;
  std::optional<GoFunctionSummary> go_functions;  // Go binaries with a readable pclntab
  ServiceHints hints;
  std::vector<Finding> findings;
};

/// Inspects `path`. Throws UserError for inputs read_elf() rejects; problems
/// with the libraries (missing, foreign, corrupt) are reported, not thrown.
InspectReport inspect_binary(const std::string& path, const LoaderEnv& env);

}  // namespace coldstart::elf
