// `coldstart inspect [--json] [--export-json F] FILE...`: inspects every file
// first (so a bad one fails the command before anything is printed), then
// prints the reports as text or as the JSON documented in docs/inspect.md.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/file.h"
#include "core/strings.h"
#include "cli/inspect_image.h"
#include "elf/inspect.h"
#include "image/image.h"

namespace coldstart::cli {
namespace {

using json = nlohmann::ordered_json;
using namespace coldstart::elf;

json nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json census_json(const ObjectCensus& c) {
  const RelocationCensus& r = c.relocations;
  json tables = json::array();
  for (const auto& t : r.tables)
    tables.push_back({{"name", t.name}, {"format", t.format}, {"offset", t.offset}, {"bytes", t.bytes},
                      {"entries", t.entries}, {"loaded", t.loaded}, {"by_type", t.by_type},
                      {"relr_relocations", t.relr_relocations}});
  json tls = nullptr;
  if (c.has_tls) tls = {{"memsz", c.tls_memsz}, {"filesz", c.tls_filesz}};
  return {{"relocations",
           {{"total", r.total()}, {"relative", r.relative}, {"glob_dat", r.glob_dat}, {"jump_slot", r.jump_slot},
            {"irelative", r.irelative}, {"other", r.other}, {"relr_words", r.relr_words},
            {"relr_relocations", r.relr_relocations}, {"table_bytes", r.bytes}, {"by_type", r.by_type},
            {"tables", tables}}},
          {"symbols",
           {{"dynsym", c.symbols.dynsym}, {"dynsym_undefined", c.symbols.dynsym_undefined},
            {"dynsym_defined", c.symbols.dynsym_defined}, {"symtab", c.symbols.symtab}}},
          {"bind_now", c.bind_now}, {"gnu_hash", c.gnu_hash}, {"sysv_hash", c.sysv_hash},
          {"dt_flags", c.dt_flags}, {"dt_flags_1", c.dt_flags_1}, {"tls", tls}};
}

json module_json(const GoModule& m) {
  json j = {{"path", m.path}, {"version", m.version}, {"sum", m.sum}};
  if (!m.replaced_by_path.empty()) j["replace"] = {{"path", m.replaced_by_path}, {"version", m.replaced_by_version}};
  return j;
}

json go_json(const GoBuildInfo& g) {
  json settings = json::object();
  for (const auto& [k, v] : g.settings) settings[k] = v;
  json deps = json::array();
  for (const auto& d : g.deps) deps.push_back(module_json(d));
  return {{"version", g.go_version},
          {"format", g.format},
          {"pointer_size", g.pointer_size},
          {"path", g.path},
          {"main", g.main ? module_json(*g.main) : json(nullptr)},
          {"deps", deps},
          {"settings", settings},
          {"modinfo", g.modinfo_lines}};
}

json report_json(const InspectReport& r) {
  json debug = json::object();
  for (const auto& [name, size] : r.debug_sections) debug[name] = size;
  const auto& objs = r.dependencies.objects;
  json libs = json::array();
  for (size_t i = 1; i < objs.size(); ++i) {
    const auto& o = objs[i];
    json needs = json::array();
    for (const auto& n : o.needs) needs.push_back({{"name", n.name}, {"path", n.object >= 0 ? json(objs[n.object].path) : json(nullptr)}});
    json census = nullptr;
    for (const auto& c : r.libraries)
      if (c.path == o.path) census = census_json(c);
    libs.push_back({{"name", o.name}, {"path", o.path}, {"found_via", found_via_name(o.via)},
                    {"loaded_by", o.loaded_by >= 0 ? json(objs[o.loaded_by].path) : json(nullptr)},
                    {"depth", o.depth}, {"needs", needs}, {"census", census}});
  }
  json unresolved = json::array();
  for (const auto& u : r.dependencies.unresolved)
    unresolved.push_back({{"name", u.name}, {"needed_by", u.needed_by}, {"reason", u.reason}});
  json findings = json::array();
  for (const auto& f : r.findings) findings.push_back({{"id", f.id}, {"summary", f.summary}});
  return {{"path", r.path},
          {"file_size", r.file_size},
          {"elf_class", r.elf_class},
          {"machine", r.machine},
          {"type", kind_name(r.kind)},
          {"static", r.is_static},
          {"interpreter", nullable(r.interpreter)},
          {"entry", r.entry},
          {"build_id", nullable(r.build_id)},
          {"stripped", r.stripped},
          {"debug_bytes", r.debug_bytes},
          {"debug_sections", debug},
          {"soname", nullable(r.soname)},
          {"needed", r.needed},
          {"rpath", r.rpath},
          {"runpath", r.runpath},
          {"census", census_json(r.census)},
          {"libraries", libs},
          {"unresolved", unresolved},
          {"is_go", r.is_go},
          {"go", r.go ? go_json(*r.go) : json(nullptr)},
          {"go_functions", r.go_functions ? json{{"count", r.go_functions->count},
                                                 {"source", r.go_functions->source},
                                                 {"pclntab_format", r.go_functions->format},
                                                 {"main_main", r.go_functions->has_main_main},
                                                 {"package_inits", r.go_functions->package_inits}}
                                           : json(nullptr)},
          {"service_hints",
           {{"notify_socket", r.hints.notify_socket}, {"listen_fds", r.hints.listen_fds},
            {"watchdog_usec", r.hints.watchdog_usec}, {"links_libsystemd", r.hints.links_libsystemd}}},
          {"findings", findings}};
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

std::string census_line(const ObjectCensus& c) {
  const RelocationCensus& r = c.relocations;
  std::string s = fmt::format("{} relocations: {} RELATIVE, {} GLOB_DAT, {} JUMP_SLOT, {} IRELATIVE, {} other",
                              format_count(r.total()), format_count(r.relative), format_count(r.glob_dat),
                              format_count(r.jump_slot), format_count(r.irelative), format_count(r.other));
  if (r.relr_words) s += fmt::format(", RELR {} words -> {}", format_count(r.relr_words), format_count(r.relr_relocations));
  return s + fmt::format(" ({} of tables)", format_bytes(r.bytes));
}

// The dependency tree, depth first; an object already shown is not expanded again.
void print_tree(std::string& out, const DependencyTree& t, int index, unsigned indent, std::vector<bool>& shown) {
  for (const auto& n : t.objects[index].needs) {
    std::string pad(indent * 2, ' ');
    if (n.object < 0) {
      out += fmt::format("{}{} => not found\n", pad, n.name);
      continue;
    }
    const auto& o = t.objects[n.object];
    bool again = shown[n.object];
    out += fmt::format("{}{} => {}{}\n", pad, n.name, o.path,
                       again ? " (already loaded)" : fmt::format(" [{}]", found_via_name(o.via)));
    if (!again) {
      shown[n.object] = true;
      print_tree(out, t, n.object, indent + 1, shown);
    }
  }
}

std::string report_text(const InspectReport& r) {
  std::string out = r.path + "\n";
  out += fmt::format("  {} {} {}, {}{}\n", r.elf_class, r.machine, kind_name(r.kind), r.is_static ? "static" : "dynamic",
                     r.interpreter.empty() ? "" : ", interpreter " + r.interpreter);
  out += fmt::format("  size {}, entry {:#x}, build-id {}, stripped {}, debug sections {}\n", format_bytes(r.file_size),
                     r.entry, r.build_id.empty() ? "none" : r.build_id, yes_no(r.stripped), format_bytes(r.debug_bytes));
  const ObjectCensus& c = r.census;
  out += "  " + census_line(c) + "\n";
  out += fmt::format("  BIND_NOW {}, .gnu.hash {}, .hash {}, dynamic symbols {} ({} undefined), .symtab {}, TLS {}\n",
                     yes_no(c.bind_now), yes_no(c.gnu_hash), yes_no(c.sysv_hash), format_count(c.symbols.dynsym),
                     format_count(c.symbols.dynsym_undefined), format_count(c.symbols.symtab),
                     c.has_tls ? format_bytes(c.tls_memsz) : "none");
  if (r.go) {
    out += fmt::format("  Go {} ({} build info), {}\n", r.go->go_version, r.go->format, r.go->path.empty() ? "?" : r.go->path);
    for (const auto& [k, v] : r.go->settings) out += fmt::format("    {}={}\n", k, v);
  } else if (r.is_go) {
    out += "  Go (no readable build info)\n";
  }
  if (r.go_functions)
    out += fmt::format("  Go functions: {} from the {} (pclntab format {}), main.main {}\n",
                       format_count(r.go_functions->count), r.go_functions->source, r.go_functions->format,
                       r.go_functions->has_main_main ? "found" : "missing");
  out += fmt::format("  NOTIFY_SOCKET {}, LISTEN_FDS {}, WATCHDOG_USEC {}, libsystemd {}\n", yes_no(r.hints.notify_socket),
                     yes_no(r.hints.listen_fds), yes_no(r.hints.watchdog_usec), yes_no(r.hints.links_libsystemd));
  const auto& objs = r.dependencies.objects;
  if (objs.size() > 1) {
    out += fmt::format("  libraries ({} loaded, {} unresolved):\n", objs.size() - 1, r.dependencies.unresolved.size());
    std::vector<bool> shown(objs.size(), false);
    shown[0] = true;
    print_tree(out, r.dependencies, 0, 2, shown);
    for (const auto& lib : r.libraries) out += fmt::format("    {}: {}\n", lib.path, census_line(lib));
  }
  for (const auto& u : r.dependencies.unresolved)
    out += fmt::format("  unresolved: {} (needed by {}): {}\n", u.name, u.needed_by, u.reason);
  if (!r.findings.empty()) {
    out += "  findings:\n";
    for (const auto& f : r.findings) out += "    - " + f.summary + "\n";
  }
  return out;
}

}  // namespace

CommandRunner setup_inspect(CLI::App& sub) {
  struct Options {
    std::vector<std::string> files;
    bool json = false;
    std::string export_json;
  };
  auto opt = std::make_shared<Options>();
  sub.add_option("FILE", opt->files, "ELF binaries or images (OCI layout dir, oci-archive, docker-archive) to inspect")
      ->required();
  sub.add_flag("--json", opt->json, "print JSON (schema: docs/inspect.md) instead of text");
  sub.add_option("--export-json", opt->export_json, "also write the JSON to this file");
  return [opt]() -> int {
    LoaderEnv env = LoaderEnv::from_process();
    std::vector<InspectReport> reports;
    std::vector<image::ImageReport> images;
    for (const auto& f : opt->files) {
      if (image::looks_like_image(f)) images.push_back(image::inspect_image(f));
      else reports.push_back(inspect_binary(f, env));
    }
    json doc = {{"schema", "coldstart.inspect/1"}, {"files", json::array()}};
    for (const auto& r : reports) doc["files"].push_back(report_json(r));
    if (!images.empty()) {
      doc["images"] = json::array();
      for (const auto& r : images) doc["images"].push_back(image_report_json(r));
    }
    if (!opt->export_json.empty()) write_file_atomic(opt->export_json, doc.dump(2) + "\n");
    std::string out;
    if (opt->json) {
      out = doc.dump(2) + "\n";
    } else {
      for (size_t i = 0; i < reports.size(); ++i) out += (i ? "\n" : "") + report_text(reports[i]);
      for (size_t i = 0; i < images.size(); ++i) out += (i || !reports.empty() ? "\n" : "") + image_report_text(images[i]);
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  };
}

}  // namespace coldstart::cli
