// The model `coldstart lint` produces: findings with a rule, a severity, a
// one-line message, a fix hint and the file:line:col they point at. The
// printers (text, JSON, SARIF in lint/output.h) and the exit status are
// derived from it; nothing here prints.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "unit/unit_file.h"

namespace coldstart::lint {

using unit::SourcePos;

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

/// A file that could not be checked: unreadable, unparsable, too large.
/// pos.line is 0 when the problem has no place inside the file.
struct FileProblem {
  SourcePos pos;
  std::string message;  // without the position
};

/// LintReport is every finding over the files given, in file/line order, the
/// files that were read (drop-ins included) and those that could not be.
struct LintReport {
  std::vector<std::string> files;
  std::vector<Finding> findings;
  std::vector<FileProblem> not_checked;

  bool has_errors() const;
  /// Sorts findings by file (in `files` order), line, column, rule.
  void sort();
};

/// InputError is a UserError for input that cannot be parsed at all (YAML
/// syntax, a unit file systemd would refuse); what() starts "file:line:col: ".
class InputError : public UserError {
 public:
  InputError(SourcePos pos, const std::string& reason)
      : UserError(unit::to_string(pos) + ": " + reason), pos_(std::move(pos)), reason_(reason) {}
  const SourcePos& pos() const { return pos_; }
  /// The message without the position prefix.
  const std::string& reason() const { return reason_; }

 private:
  SourcePos pos_;
  std::string reason_;
};

}  // namespace coldstart::lint
