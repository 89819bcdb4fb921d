// lint_paths: one step per file, in the order given.
//  1. Expand directories into the unit files and manifests directly in them
//     (sorted by name), leaving out systemd's "*.d"/"*.wants"/... folders.
//  2. A unit that is a symlink to /dev/null or an empty file is masked
//     (systemd's null_or_empty()): a note, nothing else to read.
//  3. Check the size against the limit before mapping anything, then read.
//  4. Decide what it is: units by suffix (systemd's unit types), manifests by
//     suffix (.yaml/.yml/.json); otherwise a unit if its first non-comment
//     line is a "[Section]" header, else a manifest.
//  5. Parse (with drop-ins for units) and apply the rules. A file that fails
//     any step is recorded in not_checked with the position and the reason;
//     the next file is linted all the same.
//  6. Sort the findings by file, line and column.
#include "lint/lint.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "core/bytes.h"
#include "core/file.h"
#include "core/strings.h"
#include "lint/k8s_manifest.h"
#include "lint/rules.h"

namespace coldstart::lint {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kUnitSuffixes[] = {".service", ".socket", ".timer", ".target", ".mount", ".automount",
                                              ".path",    ".slice",  ".swap",  ".scope",  ".device"};
constexpr std::string_view kManifestSuffixes[] = {".yaml", ".yml", ".json"};
// Folders systemd reads along with a unit (drop-ins, dependency links).
constexpr std::string_view kUnitFolderSuffixes[] = {".d", ".wants", ".requires", ".upholds"};

template <size_t N>
bool has_suffix(std::string_view name, const std::string_view (&suffixes)[N]) {
  return std::any_of(std::begin(suffixes), std::end(suffixes), [&](std::string_view s) { return name.ends_with(s); });
}

bool looks_like_unit(std::string_view text) {
  size_t at = 0;
  if (text.starts_with("\xEF\xBB\xBF")) at = 3;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = trim(text.substr(at, end - at));
    at = end + 1;
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;
    return l[0] == '[';
  }
  return false;
}

std::string format_size(uint64_t bytes) {
  if (bytes >= (1ull << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
  return fmt::format("{} bytes", bytes);
}

/// The files a command-line argument stands for.
std::vector<std::string> expand(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return {path};
  // systemd's folders (a shell glob over a unit directory names them too):
  // drop-ins are read with their unit, .wants/.requires links name units
  // that are linted as themselves.
  if (has_suffix(fs::path(path).filename().string(), kUnitFolderSuffixes)) return {};
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(path, ec)) {
    std::string name = e.path().filename().string();
    if (has_suffix(name, kUnitFolderSuffixes)) continue;
    if (has_suffix(name, kUnitSuffixes) || has_suffix(name, kManifestSuffixes)) out.push_back(e.path().string());
  }
  if (ec) throw_sys("opendir", path, ec.value());
  if (out.empty()) throw UserError("a directory without unit files or manifests");
  std::sort(out.begin(), out.end());
  return out;
}

class FileLinter {
 public:
  FileLinter(const LintContext& context, LintReport& report) : context_(context), report_(report) {}

  void lint(const std::string& path) {
    std::string name = fs::path(path).filename().string();
    bool unit_name = has_suffix(name, kUnitSuffixes);
    if (unit_name && masked(path)) return;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        static_cast<uint64_t>(st.st_size) > context_.max_file_bytes)
      throw UserError(fmt::format("{} is more than the {} limit (--max-size)", format_size(static_cast<uint64_t>(st.st_size)),
                                  format_size(context_.max_file_bytes)));
    Mapping m = Mapping::map_file(path);
    std::string_view text = as_chars(m.bytes());
    bool unit = unit_name || (!has_suffix(name, kManifestSuffixes) && looks_like_unit(text));
    if (!unit) {
      std::vector<K8sWorkload> workloads = read_manifests(text, path);
      report_.files.push_back(path);
      lint_workloads(workloads, context_, report_);
      return;
    }
    unit::UnitFile u;
    try {
      u = unit::UnitFile::load(path);
    } catch (const unit::UnitSyntaxError& e) {
      throw InputError(e.pos(), e.reason());
    }
    report_.files.push_back(path);
    for (const std::string& d : u.dropins()) report_.files.push_back(d);
    lint_unit(u, context_, report_);
  }

 private:
  // systemd's null_or_empty(): /dev/null (through a symlink) or an empty file.
  bool masked(const std::string& path) {
    std::error_code ec;
    fs::path target = fs::canonical(path, ec);
    bool to_null = !ec && target == "/dev/null";
    struct stat st {};
    bool empty = !to_null && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
    if (!to_null && !empty) return false;
    const RuleInfo& r = rule("unit-masked");
    std::string name = fs::path(path).filename().string();
    report_.files.push_back(path);
    report_.findings.push_back(
        {std::string(r.id), r.severity,
         to_null ? fmt::format("{} is masked (a symlink to /dev/null): systemd refuses to load or start it, so "
                               "there is nothing to check",
                               name)
                 : fmt::format("{} is empty: systemd treats an empty unit file as masked and will not start it",
                               name),
         std::string(r.hint), SourcePos{path, 1, 1}});
    return true;
  }

  const LintContext& context_;
  LintReport& report_;
};

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
  FileLinter linter(context, report);
  for (const std::string& arg : paths) {
    std::vector<std::string> files;
    try {
      files = expand(arg);
    } catch (const UserError& e) {
      report.not_checked.push_back({SourcePos{arg, 0, 0}, e.what()});
      continue;
    }
    for (const std::string& path : files) {
      // A file that fails part way keeps none of its findings.
      size_t findings = report.findings.size(), read = report.files.size();
      auto failed = [&](SourcePos pos, std::string message) {
        report.findings.resize(findings);
        report.files.resize(read);
        report.not_checked.push_back({std::move(pos), std::move(message)});
      };
      try {
        linter.lint(path);
      } catch (const InputError& e) {
        failed(e.pos(), e.reason());
      } catch (const UserError& e) {
        failed({path, 0, 0}, e.what());
      } catch (const fs::filesystem_error& e) {
        failed({path, 0, 0}, fmt::format("{}: {}", path, e.code().message()));
      }
    }
  }
  report.sort();
  return report;
}

}  // namespace coldstart::lint
