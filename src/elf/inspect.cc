// Building the inspect report: one pass over the binary's header tables, one
// resolution of its libraries, one census per loaded object, then findings.
//
// Findings only quote figures counted here (relocation entries and table
// bytes, library counts, symbol counts); they never estimate time. What each
// figure costs at start, per glibc 2.36's ld.so:
//  * every RELA/RELR relocation of every loaded object is applied before
//    main(); GLOB_DAT and (with BIND_NOW) JUMP_SLOT also need a symbol lookup
//    through the hash tables of the objects in scope;
//  * each library is opened, mmapped and has its own relocations processed;
//  * IRELATIVE runs an ifunc resolver function per entry;
//  * PT_TLS is set up for the main thread and copied for every new thread.
#include "elf/inspect.h"

#include <cstdio>

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"
#include "elf/elf_file.h"
#include "elf/facts.h"

namespace coldstart::elf {
namespace {

ObjectCensus census_of(const ElfFile& file) {
  ObjectCensus c;
  c.path = file.name();
  c.relocations = count_relocations(file);
  c.symbols = count_symbols(file);
  c.dt_flags = file.dynamic_value(DT_FLAGS).value_or(0);
  c.dt_flags_1 = file.dynamic_value(DT_FLAGS_1).value_or(0);
  c.bind_now = file.dynamic_value(DT_BIND_NOW).has_value() || (c.dt_flags & DF_BIND_NOW) || (c.dt_flags_1 & DF_1_NOW);
  c.gnu_hash = file.dynamic_value(DT_GNU_HASH).has_value();
  c.sysv_hash = file.dynamic_value(DT_HASH).has_value();
  if (const Segment* tls = file.segment(PT_TLS)) {
    c.has_tls = true;
    c.tls_memsz = tls->memsz;
    c.tls_filesz = tls->filesz;
  }
  return c;
}

std::vector<std::string> dynamic_strings(const ElfFile& file, int64_t tag) {
  std::vector<std::string> out;
  for (uint64_t off : file.dynamic_values(tag)) out.emplace_back(file.dynamic_string(off).value_or(""));
  return out;
}

std::string kb(uint64_t bytes) { return format_count((bytes + 512) / 1024) + " KB"; }

void add_findings(InspectReport& r) {
  auto add = [&](std::string id, std::string text) { r.findings.push_back({std::move(id), std::move(text)}); };
  const RelocationCensus& rel = r.census.relocations;
  std::string kind(kind_name(r.kind));
  if (rel.total() > 0 && (r.kind == ImageKind::kPie || r.kind == ImageKind::kStaticPie)) {
    add("pie-relocations",
        fmt::format("{}: {} relocations ({} relative) in {} of relocation tables processed at every start",
                    r.kind == ImageKind::kPie ? "PIE" : "static PIE", format_count(rel.total()),
                    format_count(rel.relative + rel.relr_relocations), kb(rel.bytes)));
  } else if (rel.total() > 0) {
    add("relocations", fmt::format("{}: {} relocations in {} of relocation tables processed at every start", kind,
                                   format_count(rel.total()), kb(rel.bytes)));
  }
  if (rel.relr_words > 0 && rel.relr_relocations * sizeof(Elf64_Rela) > rel.relr_words * 8)
    add("relr", fmt::format("DT_RELR: {} words encode {} relative relocations ({} of RELA saved)",
                            format_count(rel.relr_words), format_count(rel.relr_relocations),
                            kb(rel.relr_relocations * sizeof(Elf64_Rela) - rel.relr_words * 8)));
  if (rel.irelative > 0)
    add("irelative", fmt::format("{} IRELATIVE relocations: an ifunc resolver runs for each at start",
                                 format_count(rel.irelative)));
  if (r.census.bind_now && rel.jump_slot > 0)
    add("bind-now", fmt::format("BIND_NOW: all {} PLT slots are bound at start, not at first call",
                                format_count(rel.jump_slot)));
  if (r.libraries.size() > 0) {
    uint64_t relocs = 0, undefined = r.census.symbols.dynsym_undefined, bytes = 0;
    for (const auto& lib : r.libraries) {
      relocs += lib.relocations.total();
      bytes += lib.relocations.bytes;
      undefined += lib.symbols.dynsym_undefined;
    }
    add("libraries", fmt::format("{} shared objects loaded at start; they add {} relocations in {} of tables; "
                                 "{} undefined dynamic symbols to look up in all",
                                 r.libraries.size(), format_count(relocs), kb(bytes), format_count(undefined)));
  }
  for (const auto& u : r.dependencies.unresolved)
    add("unresolved", fmt::format("{} (needed by {}): {}; the start fails", u.name, u.needed_by, u.reason));
  auto hash_only = [&](const ObjectCensus& c) {
    if (c.sysv_hash && !c.gnu_hash)
      add("sysv-hash-only", fmt::format("{}: only .hash, no .gnu.hash: lookups into its {} exported symbols "
                                        "have no Bloom filter",
                                        c.path, format_count(c.symbols.dynsym_defined)));
  };
  hash_only(r.census);
  for (const auto& lib : r.libraries) hash_only(lib);
  if (r.census.has_tls)
    add("tls", fmt::format("TLS: {} bytes per thread ({} initialized from the file)", format_count(r.census.tls_memsz),
                           format_count(r.census.tls_filesz)));
  if (r.go && !r.go->go_version.empty()) {
    // Go >= 1.25 derives GOMAXPROCS from the cgroup CPU limit; older versions use every host CPU.
    int major = 0, minor = 0;
    if (std::sscanf(r.go->go_version.c_str(), "go%d.%d", &major, &minor) == 2 && (major == 1 && minor < 25))
      add("go-maxprocs", fmt::format("{}: GOMAXPROCS defaults to the host's CPU count, not the cgroup CPU limit "
                                     "(Go >= 1.25 reads the limit)",
                                     r.go->go_version));
  }
  if (r.is_go && r.go_functions) {
    const GoFunctionSummary& g = *r.go_functions;
    add("go-package-inits", fmt::format("{} package init functions run before main.main (pclntab: {} functions, "
                                        "from the {})",
                                        format_count(g.package_inits), format_count(g.count), g.source));
    if (r.stripped && g.has_main_main)
      add("go-stripped", "stripped (no .symtab): trace places main.main from the pclntab instead");
  } else if (r.is_go) {
    add("go-no-pclntab", "Go binary without a readable function table: trace cannot place main.main");
  }
  if (!r.hints.notify_socket && !r.hints.links_libsystemd && !r.hints.listen_fds)
    add("no-readiness", "no NOTIFY_SOCKET or LISTEN_FDS string: readiness can only be probed from outside");
}

}  // namespace

InspectReport inspect_binary(const std::string& path, const LoaderEnv& env) {
  ElfFile file = ElfFile::open(path);
  InspectReport r;
  r.path = path;
  r.file_size = file.bytes().size();
  r.machine = machine_name(file.header().e_machine);
  r.kind = image_kind(file);
  if (auto in = file.interpreter()) r.interpreter = std::string(*in);
  r.is_static = r.interpreter.empty();
  r.entry = file.header().e_entry;
  r.build_id = build_id(file);
  r.stripped = file.section(".symtab") == nullptr;
  for (const auto& s : file.sections()) {
    if (s.name.starts_with(".debug_") || s.name.starts_with(".zdebug_")) {
      r.debug_sections.emplace_back(std::string(s.name), s.size);
      r.debug_bytes += s.size;
    }
  }
  if (auto s = file.dynamic_value(DT_SONAME)) r.soname = std::string(file.dynamic_string(*s).value_or(""));
  r.needed = dynamic_strings(file, DT_NEEDED);
  r.rpath = dynamic_strings(file, DT_RPATH);
  r.runpath = dynamic_strings(file, DT_RUNPATH);
  r.census = census_of(file);

  // Libraries: resolve as ld.so, then count each one's own start-up work.
  if (!file.dynamic().empty()) r.dependencies = resolve_dependencies(path, env);
  for (size_t i = 1; i < r.dependencies.objects.size(); ++i) {
    const auto& obj = r.dependencies.objects[i];
    try {
      r.libraries.push_back(census_of(ElfFile::open(obj.path)));
      if (obj.name.starts_with("libsystemd.so")) r.hints.links_libsystemd = true;
    } catch (const UserError&) {
      // Already listed as unresolved ("cannot be loaded") by the resolver.
    }
  }

  r.go = read_go_buildinfo(file);
  r.is_go = r.go.has_value() || has_go_markers(file);
  if (r.is_go) {
    if (auto table = read_go_functions(file)) {
      GoFunctionSummary g;
      g.count = table->size();
      g.source = std::string(pclntab_source_name(table->source));
      g.format = std::string(table->format());
      g.has_main_main = table->find("main.main") != nullptr;
      for (const auto& f : table->functions()) {
        // "<pkg>.init" or "<pkg>.init.<n>", not methods or closures named init.
        size_t at = f.name.rfind(".init");
        if (at == std::string::npos || at == 0) continue;
        std::string_view rest = std::string_view(f.name).substr(at + 5);
        bool numbered = rest.size() > 1 && rest[0] == '.' &&
                        rest.substr(1).find_first_not_of("0123456789") == std::string_view::npos;
        if (rest.empty() || numbered) ++g.package_inits;
      }
      r.go_functions = g;
    }
  }
  r.hints.notify_socket = contains_in_rodata(file, "NOTIFY_SOCKET");
  r.hints.listen_fds = contains_in_rodata(file, "LISTEN_FDS");
  r.hints.watchdog_usec = contains_in_rodata(file, "WATCHDOG_USEC");
  add_findings(r);
  return r;
}

}  // namespace coldstart::elf
