// Reading systemd unit files (systemd.syntax(7), systemd.unit(7)) the way
// systemd's own conf-parser does, keeping the file:line:col of every key and
// value so that `lint` can point at them and `run --unit` can report them.
//
// What this layer does (and what it leaves to the typed readers in
// unit_file_values.h / unit_file_service.h):
//  * Sections "[Name]"; assignments "Key=Value"; key and value are stripped of
//    surrounding whitespace; the value is kept RAW (quotes and backslashes are
//    interpreted per key by the typed readers, as systemd does).
//  * Lines whose first non-blank character is '#' or ';' are comments, also
//    between the lines of a continuation.
//  * A line ending in an unescaped backslash continues on the next line: the
//    backslash becomes a space and the next physical line is appended as is.
//  * A UTF-8 byte order mark at the start of the file is skipped.
//  * Repeated keys are all kept, in file order; `last()` gives the value that
//    wins for a single-valued setting, `list()` the items of a list setting
//    where an empty assignment ("Environment=") resets the list so far.
//  * Drop-ins: <dir>/<unit>.d/*.conf (and, for an instance "a@i.service", the
//    template's <dir>/a@.service.d/*.conf) are read after the unit, merged in
//    lexical order of their file names; a same-named file of the more specific
//    directory hides the other (systemd.unit(7), "drop-in").
//  * Hard errors systemd refuses a unit for (an unterminated "[Section",
//    unsafe characters in a section name, a NUL byte, a line longer than 1 MiB)
//    throw UnitSyntaxError with the position. What systemd only warns about and
//    ignores (a line without '=', an assignment before any section) is kept in
//    `UnitFile::issues()` with its position, and the line is skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace coldstart::unit {

/// A position in a source file: 1-based line and 1-based byte column.
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
};

/// "file:line:col" for messages.
std::string to_string(const SourcePos& pos);

/// UnitSyntaxError is a UserError whose message starts with "file:line:col: ",
/// thrown for input systemd itself would refuse to load; pos() says where.
class UnitSyntaxError : public UserError {
 public:
  UnitSyntaxError(SourcePos pos, const std::string& message);
  const SourcePos& pos() const { return pos_; }
  /// The message without the position prefix.
  const std::string& reason() const { return reason_; }

 private:
  SourcePos pos_;
  std::string reason_;
};

/// One "Key=Value" assignment as it appears in a unit file or drop-in.
struct UnitEntry {
  std::string section;  // without brackets, e.g. "Service"
  std::string key;      // e.g. "ExecStart"
  std::string value;    // raw value, continuation lines joined, stripped
  SourcePos key_pos;    // where the key starts
  SourcePos value_pos;  // where the value starts (after '=' and blanks)

  /// Where byte `offset` of `value` came from (continuations span lines).
  SourcePos pos_at(size_t offset) const;

  /// Start offset in `value` of each physical line piece, with its position.
  struct Piece {
    size_t offset;
    int line;
    int column;
  };
  std::vector<Piece> pieces;
};

/// Something systemd warns about and ignores while reading the file.
struct UnitIssue {
  SourcePos pos;
  std::string message;
};

/// UnitFile is a parsed unit with its drop-ins: every assignment in the order
/// systemd applies them (unit first, then drop-ins), with positions. Built by
/// parse() or load(); read by supervise (run --unit) and lint.
class UnitFile {
 public:
  /// Parses `text` as the unit file named `file` (used in positions). Throws
  /// UnitSyntaxError. Appends to this object, so drop-ins are parsed into the
  /// same UnitFile after the unit itself.
  void parse(std::string_view text, const std::string& file);

  /// Reads the unit at `path` and, when `with_dropins`, its drop-in
  /// directories. Throws UserError if the unit cannot be read, UnitSyntaxError
  /// on a syntax error in it or a drop-in.
  static UnitFile load(const std::string& path, bool with_dropins = true);

  /// The drop-in files `load` would read for `unit_path`, in merge order.
  static std::vector<std::string> dropin_paths(const std::string& unit_path);

  /// The unit's path as given to load(), or the `file` of the first parse().
  const std::string& path() const { return path_; }
  /// The unit's name: the file name of path(), e.g. "web.service".
  std::string name() const;
  /// The drop-in files that were read, in the order they were applied.
  const std::vector<std::string>& dropins() const { return dropins_; }

  const std::vector<UnitEntry>& entries() const { return entries_; }
  const std::vector<UnitIssue>& issues() const { return issues_; }
  /// Section headers seen, in first-seen order, with the position of the first.
  struct Section {
    std::string name;
    SourcePos pos;
  };
  const std::vector<Section>& sections() const { return sections_; }
  bool has_section(std::string_view section) const;

  /// The assignment that wins for a single-valued setting (the last one), or
  /// nullptr. Note an empty value is returned as is: for most settings it
  /// means "reset to the default".
  const UnitEntry* last(std::string_view section, std::string_view key) const;

  /// Every assignment of a list setting after the last empty one (an empty
  /// assignment resets the list), in order. Values are still raw: one
  /// assignment may hold several items (split them with split_words()).
  std::vector<const UnitEntry*> list(std::string_view section, std::string_view key) const;

  /// Every assignment of `key`, empty ones included, in order.
  std::vector<const UnitEntry*> all(std::string_view section, std::string_view key) const;

 private:
  std::string path_;
  std::vector<std::string> dropins_;
  std::vector<UnitEntry> entries_;
  std::vector<UnitIssue> issues_;
  std::vector<Section> sections_;
};

}  // namespace coldstart::unit
