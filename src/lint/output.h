// Printers of a LintReport (they build strings/JSON; cli/lint.cc writes them).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lint/finding.h"

namespace coldstart::lint {

/// Compiler style, one finding per two lines:
///   file:line:col: warning: message [rule-id]
///     fix: hint
/// then one line per file that could not be checked
///   file:line:col: error: not checked: reason [not-checked]
/// and a count line ("2 errors, 1 warning, 0 notes in 3 files").
std::string format_text(const LintReport& report);

/// One line for stderr when files could not be checked ("" when all were):
/// the first problem with its position, and how many there are.
std::string not_checked_summary(const LintReport& report);

/// {"files": [...], "findings": [{rule, severity, message, hint, file, line,
/// column}], "not_checked": [{file, line, column, message}], "errors": N,
/// "warnings": N, "notes": N}. line/column are 0 for a whole-file problem.
nlohmann::json to_json(const LintReport& report);

/// SARIF 2.1.0 for GitHub code scanning: every rule in tool.driver.rules,
/// results with ruleId/ruleIndex/level/message and a physical location whose
/// artifactLocation.uri is relative to `base_dir` (uriBaseId "SRCROOT",
/// declared in originalUriBaseIds); files outside base_dir get absolute
/// file:// URIs. Files that could not be checked are
/// runs[0].invocations[0].toolExecutionNotifications (executionSuccessful
/// false).
nlohmann::json to_sarif(const LintReport& report, const std::string& base_dir);

}  // namespace coldstart::lint
