// Text, JSON and SARIF renderings of a LintReport.
//
// SARIF notes (SARIF 2.1.0 OASIS standard, and what GitHub code scanning
// reads): `version` "2.1.0" and `runs` are required; GitHub needs
// tool.driver.name, each result's message.text and a location with
// artifactLocation.uri and region.startLine; rule metadata (shortDescription,
// help, defaultConfiguration.level) is shown on the alert. URIs are
// RFC 3986 references: path characters outside the unreserved set are
// percent-encoded. Columns are 1-based byte columns; for ASCII files (unit
// files and manifests almost always are) they equal SARIF's default UTF-16
// columns.
#include "lint/output.h"

#include <filesystem>

#include <fmt/format.h>

#include "lint/rules.h"

namespace coldstart::lint {
namespace {

struct Counts {
  size_t errors = 0, warnings = 0, notes = 0;
};

Counts count(const LintReport& r) {
  Counts c;
  for (const Finding& f : r.findings) {
    if (f.severity == Severity::kError) ++c.errors;
    else if (f.severity == Severity::kWarning) ++c.warnings;
    else ++c.notes;
  }
  return c;
}

std::string plural(size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

std::string percent_encode(std::string_view path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') out.push_back(static_cast<char>(c));
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string where(const SourcePos& pos) {
  return pos.line > 0 ? unit::to_string(pos) : pos.file;
}

nlohmann::json artifact_location(const std::string& path, const std::filesystem::path& base) {
  namespace fs = std::filesystem;
  fs::path file = fs::weakly_canonical(fs::absolute(path));
  fs::path rel = file.lexically_relative(base);
  if (!rel.empty() && *rel.begin() != "..")
    return {{"uri", percent_encode(rel.generic_string())}, {"uriBaseId", "SRCROOT"}};
  return {{"uri", "file://" + percent_encode(file.generic_string())}};
}

}  // namespace

std::string not_checked_summary(const LintReport& report) {
  if (report.not_checked.empty()) return "";
  const FileProblem& first = report.not_checked.front();
  std::string line = fmt::format("{}: {}", where(first.pos), first.message);
  if (report.not_checked.size() == 1) return line;
  return fmt::format("{} files could not be checked; the first: {}", report.not_checked.size(), line);
}

std::string format_text(const LintReport& report) {
  std::string out;
  for (const Finding& f : report.findings) {
    out += fmt::format("{}: {}: {} [{}]\n", unit::to_string(f.pos), severity_name(f.severity), f.message, f.rule);
    if (!f.hint.empty()) out += fmt::format("  fix: {}\n", f.hint);
  }
  for (const FileProblem& p : report.not_checked)
    out += fmt::format("{}: error: not checked: {} [not-checked]\n", where(p.pos), p.message);
  Counts c = count(report);
  out += fmt::format("{}, {}, {} in {}", plural(c.errors, "error"), plural(c.warnings, "warning"),
                     plural(c.notes, "note"), plural(report.files.size(), "file"));
  if (!report.not_checked.empty())
    out += fmt::format("; {} could not be checked", plural(report.not_checked.size(), "file"));
  out += "\n";
  return out;
}

nlohmann::json to_json(const LintReport& report) {
  nlohmann::json findings = nlohmann::json::array();
  for (const Finding& f : report.findings) {
    findings.push_back({{"rule", f.rule},
                        {"severity", severity_name(f.severity)},
                        {"message", f.message},
                        {"hint", f.hint},
                        {"file", f.pos.file},
                        {"line", f.pos.line},
                        {"column", f.pos.column}});
  }
  nlohmann::json not_checked = nlohmann::json::array();
  for (const FileProblem& p : report.not_checked)
    not_checked.push_back({{"file", p.pos.file}, {"line", p.pos.line}, {"column", p.pos.column}, {"message", p.message}});
  Counts c = count(report);
  return {{"files", report.files},
          {"findings", findings},
          {"not_checked", not_checked},
          {"errors", c.errors},
          {"warnings", c.warnings},
          {"notes", c.notes}};
}

nlohmann::json to_sarif(const LintReport& report, const std::string& base_dir) {
  namespace fs = std::filesystem;
  fs::path base = fs::weakly_canonical(fs::absolute(base_dir));
  nlohmann::json rules_json = nlohmann::json::array();
  for (const RuleInfo& r : rules()) {
    rules_json.push_back({
        {"id", r.id},
        {"name", r.id},
        {"shortDescription", {{"text", r.description}}},
        {"fullDescription", {{"text", r.description}}},
        {"help", {{"text", r.hint}, {"markdown", fmt::format("**Fix:** {}", r.hint)}}},
        {"defaultConfiguration", {{"level", severity_name(r.severity)}}},
        {"properties", {{"tags", {"coldstart", r.kind}}}},
    });
  }
  nlohmann::json results = nlohmann::json::array();
  for (const Finding& f : report.findings) {
    nlohmann::json artifact = artifact_location(f.pos.file, base);
    results.push_back({
        {"ruleId", f.rule},
        {"ruleIndex", rule_index(f.rule)},
        {"level", severity_name(f.severity)},
        {"message", {{"text", f.hint.empty() ? f.message : fmt::format("{}. Fix: {}", f.message, f.hint)}}},
        {"locations",
         {{{"physicalLocation",
            {{"artifactLocation", artifact},
             {"region", {{"startLine", std::max(1, f.pos.line)}, {"startColumn", std::max(1, f.pos.column)}}}}}}}},
    });
  }
  // Files that could not be checked are about the run, not about a rule:
  // SARIF's place for them is the invocation's toolExecutionNotifications,
  // and executionSuccessful says whether every file was checked.
  nlohmann::json notifications = nlohmann::json::array();
  for (const FileProblem& p : report.not_checked) {
    nlohmann::json physical = {{"artifactLocation", artifact_location(p.pos.file, base)}};
    if (p.pos.line > 0) physical["region"] = {{"startLine", p.pos.line}, {"startColumn", std::max(1, p.pos.column)}};
    notifications.push_back({
        {"level", "error"},
        {"message", {{"text", fmt::format("not checked: {}", p.message)}}},
        {"descriptor", {{"id", "not-checked"}}},
        {"locations", {{{"physicalLocation", physical}}}},
    });
  }
  nlohmann::json invocation = {{"executionSuccessful", report.not_checked.empty()}};
  if (!notifications.empty()) invocation["toolExecutionNotifications"] = notifications;
  std::string base_uri = "file://" + percent_encode(base.generic_string());
  if (!base_uri.ends_with("/")) base_uri += "/";
  return {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       {{
           {"tool",
            {{"driver",
              {{"name", "coldstart"},
               {"informationUri", "https://coldstart.invalid/docs/lint.md"},
               {"version", "0.1.0"},
               {"rules", rules_json}}}}},
           {"invocations", {invocation}},
           {"originalUriBaseIds", {{"SRCROOT", {{"uri", base_uri}}}}},
           {"results", results},
       }}},
  };
}

}  // namespace coldstart::lint
