// lint_paths: one step per file, in the order given.
//  1. Read the file (UserError naming it when unreadable).
//  2. Decide what it is: units by suffix (.service/.socket), manifests by
//     suffix (.yaml/.yml/.json); otherwise a unit if its first non-comment
//     line is a "[Section]" header, else a manifest.
//  3. Parse (with drop-ins for units); a syntax error is an InputError with
//     the position, which ends the whole run with exit 2 (no partial output).
//  4. Apply the rules, then sort the findings by file, line and column.
#include "lint/lint.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/bytes.h"
#include "core/file.h"
#include "core/strings.h"
#include "lint/k8s_manifest.h"

namespace coldstart::lint {
namespace {

bool looks_like_unit(std::string_view text) {
  for (const std::string& line : split(text, '\n')) {
    std::string_view l = trim(line);
    if (l.starts_with("\xEF\xBB\xBF")) l.remove_prefix(3);
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;
    return l[0] == '[';
  }
  return false;
}

}  // namespace

bool LintReport::has_errors() const {
  return std::any_of(findings.begin(), findings.end(), [](const Finding& f) { return f.severity == Severity::kError; });
}

void LintReport::sort() {
  std::map<std::string, size_t> order;
  for (const std::string& f : files) order.emplace(f, order.size());
  auto rank = [&](const std::string& f) {
    auto it = order.find(f);
    return it == order.end() ? order.size() : it->second;
  };
  std::stable_sort(findings.begin(), findings.end(), [&](const Finding& a, const Finding& b) {
    return std::make_tuple(rank(a.pos.file), a.pos.line, a.pos.column, a.rule) <
           std::make_tuple(rank(b.pos.file), b.pos.line, b.pos.column, b.rule);
  });
}

LintReport lint_paths(const std::vector<std::string>& paths, const LintContext& context) {
  LintReport report;
  for (const std::string& path : paths) {
    std::string text(as_chars(Mapping::map_file(path).bytes()));
    std::string ext = std::filesystem::path(path).extension().string();
    bool unit = ext == ".service" || ext == ".socket" ||
                (ext != ".yaml" && ext != ".yml" && ext != ".json" && looks_like_unit(text));
    if (unit) {
      supervise::UnitFile u;
      try {
        u = supervise::UnitFile::load(path);
      } catch (const supervise::UnitSyntaxError& e) {
        throw InputError(e.pos(), e.reason());
      }
      report.files.push_back(path);
      for (const std::string& d : u.dropins()) report.files.push_back(d);
      lint_unit(u, context, report);
    } else {
      report.files.push_back(path);
      lint_workloads(read_manifests(text, path), context, report);
    }
  }
  report.sort();
  return report;
}

}  // namespace coldstart::lint
