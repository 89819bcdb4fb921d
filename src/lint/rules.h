// The catalogue of lint rules: one entry per rule id, with its default
// severity, a one-line description and the fix hint. SARIF's
// tool.driver.rules[] and docs/lint.md's table are this list; a test checks
// that docs/lint.md names every id.
#pragma once

#include <span>
#include <string_view>

#include "lint/finding.h"

namespace coldstart::lint {

/// What one rule checks and how to fix what it finds.
struct RuleInfo {
  std::string_view id;
  Severity severity;
  std::string_view kind;         // "unit" or "kubernetes"
  std::string_view description;  // one line, the mistake in general
  std::string_view hint;         // one line, the fix in general
};

/// Every rule, in a stable order (SARIF ruleIndex is the position here).
std::span<const RuleInfo> rules();

/// The rule with `id`; throws std::out_of_range for an unknown id (a bug).
const RuleInfo& rule(std::string_view id);

/// Position of `id` in rules().
size_t rule_index(std::string_view id);

}  // namespace coldstart::lint
