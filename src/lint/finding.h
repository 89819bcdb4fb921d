// The model `coldstart lint` produces: findings with a rule, a severity, a
// one-line message, a fix hint and the file:line:col they point at. The
// printers (text, JSON, SARIF in lint/output.h) and the exit status are
// derived from it; nothing here prints.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "supervise/unit_file.h"

namespace coldstart::lint {

using supervise::SourcePos;

enum class Severity { kNote, kWarning, kError };

/// "note", "warning", "error" (SARIF's level names too).
std::string_view severity_name(Severity s);

/// One start-up mistake found in a file.
struct Finding {
  std::string rule;     // rule id, e.g. "notify-without-support"
  Severity severity = Severity::kWarning;
  std::string message;  // one line, with the evidence
  std::string hint;     // one line: how to fix it
  SourcePos pos;
};

/// LintReport is every finding over the files given, in file/line order, and
/// the files that were read (drop-ins included).
struct LintReport {
  std::vector<std::string> files;
  std::vector<Finding> findings;

  bool has_errors() const;
  /// Sorts findings by file (in `files` order), line, column, rule.
  void sort();
};

/// InputError is a UserError for input that cannot be parsed at all (YAML
/// syntax, a unit file systemd would refuse); what() starts "file:line:col: ".
class InputError : public UserError {
 public:
  InputError(SourcePos pos, const std::string& reason)
      : UserError(supervise::to_string(pos) + ": " + reason), pos_(std::move(pos)) {}
  const SourcePos& pos() const { return pos_; }

 private:
  SourcePos pos_;
};

}  // namespace coldstart::lint
