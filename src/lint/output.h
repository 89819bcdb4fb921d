// Printers of a LintReport (they build strings/JSON; cli/lint.cc writes them).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lint/finding.h"

namespace coldstart::lint {

/// Compiler style, one finding per two lines:
///   file:line:col: warning: message [rule-id]
///     fix: hint
/// then a count line ("2 errors, 1 warning, 0 notes in 3 files").
std::string format_text(const LintReport& report);

/// {"files": [...], "findings": [{rule, severity, message, hint, file, line,
/// column}], "errors": N, "warnings": N, "notes": N}.
nlohmann::json to_json(const LintReport& report);

/// SARIF 2.1.0 for GitHub code scanning: every rule in tool.driver.rules,
/// results with ruleId/ruleIndex/level/message and a physical location whose
/// artifactLocation.uri is relative to `base_dir` (uriBaseId "SRCROOT",
/// declared in originalUriBaseIds); files outside base_dir get absolute
/// file:// URIs.
nlohmann::json to_sarif(const LintReport& report, const std::string& base_dir);

}  // namespace coldstart::lint
