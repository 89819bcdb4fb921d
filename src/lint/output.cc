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

}  // namespace

std::string format_text(const LintReport& report) {
  std::string out;
  for (const Finding& f : report.findings) {
    out += fmt::format("{}: {}: {} [{}]\n", supervise::to_string(f.pos), severity_name(f.severity), f.message, f.rule);
    if (!f.hint.empty()) out += fmt::format("  fix: {}\n", f.hint);
  }
  Counts c = count(report);
  out += fmt::format("{}, {}, {} in {}\n", plural(c.errors, "error"), plural(c.warnings, "warning"),
                     plural(c.notes, "note"), plural(report.files.size(), "file"));
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
  Counts c = count(report);
  return {{"files", report.files},
          {"findings", findings},
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
    nlohmann::json artifact;
    fs::path file = fs::weakly_canonical(fs::absolute(f.pos.file));
    fs::path rel = file.lexically_relative(base);
    if (!rel.empty() && *rel.begin() != "..") {
      artifact = {{"uri", percent_encode(rel.generic_string())}, {"uriBaseId", "SRCROOT"}};
    } else {
      artifact = {{"uri", "file://" + percent_encode(file.generic_string())}};
    }
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
           {"originalUriBaseIds", {{"SRCROOT", {{"uri", base_uri}}}}},
           {"results", results},
       }}},
  };
}

}  // namespace coldstart::lint
