// Unit-file syntax, following systemd's src/shared/conf-parser.c (v252):
//
//  1. The file is cut into physical lines at "\n", "\r\n" or a lone "\r"
//     (systemd's read_line). Every byte keeps its line:column so that a key or
//     a value far into a continuation can be pointed at exactly.
//  2. A physical line whose first non-blank byte is '#' or ';' is a comment and
//     is dropped, even in the middle of a continuation (systemd >= 240).
//  3. Physical lines are appended to the logical line being built; if the
//     logical line then ends in an unescaped backslash (scanning it from its
//     start, "\\" escapes a backslash), that backslash becomes a space and the
//     next physical line is appended verbatim (its leading blanks included).
//  4. The logical line is stripped. "[Name]" opens a section; anything else
//     is split at the first '=' into a stripped key and a stripped raw value.
//
// systemd refuses the whole unit (EBADMSG) for an invalid section header; it
// only logs and skips a line without '=' or an assignment before the first
// section. We throw for the former and record an issue for the latter, so
// `lint` reports exactly what systemd would.
#include "unit/unit_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "core/bytes.h"
#include "core/file.h"
#include "core/strings.h"

namespace coldstart::unit {

std::string to_string(const SourcePos& pos) { return fmt::format("{}:{}:{}", pos.file, pos.line, pos.column); }

UnitSyntaxError::UnitSyntaxError(SourcePos pos, const std::string& message)
    : UserError(to_string(pos) + ": " + message), pos_(std::move(pos)), reason_(message) {}

SourcePos UnitEntry::pos_at(size_t offset) const {
  SourcePos p = value_pos;
  for (const Piece& piece : pieces) {
    if (piece.offset > offset) break;
    p.line = piece.line;
    p.column = piece.column + static_cast<int>(offset - piece.offset);
  }
  return p;
}

namespace {

constexpr size_t kLongLineMax = 1024 * 1024;  // systemd's LONG_LINE_MAX
constexpr std::string_view kBlanks = " \t\n\r";

/// A logical line under construction: its bytes and where each came from.
struct LogicalLine {
  std::string text;
  std::vector<std::pair<int, int>> origin;  // (line, column) of each byte

  void clear() {
    text.clear();
    origin.clear();
  }
};

// systemd's string_is_safe(): no control characters, quotes or backslashes.
bool section_name_is_safe(std::string_view name) {
  return std::none_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < ' ' || u == 127 || c == '\\' || c == '"' || c == '\'';
  });
}

bool ends_in_unescaped_backslash(std::string_view s) {
  bool escaped = false;
  for (char c : s) {
    if (escaped) escaped = false;
    else if (c == '\\') escaped = true;
  }
  return escaped;
}

}  // namespace

void UnitFile::parse(std::string_view text, const std::string& file) {
  if (path_.empty()) path_ = file;
  auto pos_of = [&](const LogicalLine& ll, size_t i) {
    if (ll.origin.empty()) return SourcePos{file, 1, 1};
    auto [line, col] = ll.origin[std::min(i, ll.origin.size() - 1)];
    if (i >= ll.origin.size()) ++col;  // just past the last byte
    return SourcePos{file, line, col};
  };

  std::string current_section;
  LogicalLine ll;
  bool continuing = false;
  size_t at = 0;
  int line_no = 0;
  if (text.starts_with("\xEF\xBB\xBF")) at = 3;

  // Step 4: one complete logical line.
  auto parse_logical = [&]() {
    size_t b = ll.text.find_first_not_of(kBlanks);
    if (b == std::string::npos) return;
    size_t e = ll.text.find_last_not_of(kBlanks) + 1;
    std::string_view l(ll.text.data() + b, e - b);
    if (l.front() == '[') {
      if (l.back() != ']') throw UnitSyntaxError(pos_of(ll, b), fmt::format("invalid section header '{}'", l));
      std::string name(l.substr(1, l.size() - 2));
      if (!section_name_is_safe(name))
        throw UnitSyntaxError(pos_of(ll, b), fmt::format("bad characters in section header '{}'", l));
      current_section = name;
      if (!has_section(name)) sections_.push_back({name, pos_of(ll, b)});
      return;
    }
    if (current_section.empty()) {
      issues_.push_back({pos_of(ll, b), "assignment outside of any section; systemd ignores it"});
      return;
    }
    size_t eq = l.find('=');
    if (eq == std::string_view::npos) {
      issues_.push_back({pos_of(ll, b), fmt::format("missing '=' in '{}'; systemd ignores the line", l)});
      return;
    }
    if (eq == 0) {
      issues_.push_back({pos_of(ll, b), "missing key name before '='; systemd ignores the line"});
      return;
    }
    UnitEntry entry;
    entry.section = current_section;
    entry.key = std::string(trim(l.substr(0, eq)));
    entry.key_pos = pos_of(ll, b);
    size_t v = b + eq + 1;
    while (v < e && kBlanks.find(ll.text[v]) != std::string_view::npos) ++v;
    entry.value = ll.text.substr(v, e - v);
    entry.value_pos = pos_of(ll, v);
    int last_line = -1;
    for (size_t i = v; i < e; ++i) {
      if (ll.origin[i].first != last_line) {
        last_line = ll.origin[i].first;
        entry.pieces.push_back({i - v, ll.origin[i].first, ll.origin[i].second});
      }
    }
    entries_.push_back(std::move(entry));
  };

  while (at < text.size()) {
    // Step 1: the next physical line.
    size_t end = text.find_first_of("\r\n", at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view phys = text.substr(at, end - at);
    at = end;
    if (at < text.size()) at += (text[at] == '\r' && at + 1 < text.size() && text[at + 1] == '\n') ? 2 : 1;
    ++line_no;

    size_t nul = phys.find('\0');
    if (nul != std::string_view::npos)
      throw UnitSyntaxError({file, line_no, static_cast<int>(nul) + 1}, "NUL byte in unit file");
    if (phys.size() + ll.text.size() > kLongLineMax)
      throw UnitSyntaxError({file, line_no, 1}, "line longer than 1 MiB");

    // Step 2: comments, also inside a continuation.
    size_t first = phys.find_first_not_of(kBlanks);
    if (first != std::string_view::npos && (phys[first] == '#' || phys[first] == ';')) continue;

    // Step 3: join continuations.
    if (!continuing) ll.clear();
    ll.text.append(phys);
    for (size_t i = 0; i < phys.size(); ++i) ll.origin.emplace_back(line_no, static_cast<int>(i) + 1);
    if (ends_in_unescaped_backslash(ll.text)) {
      ll.text.back() = ' ';
      continuing = true;
      continue;
    }
    continuing = false;
    parse_logical();
  }
  // A continuation at end of file is still a line (systemd parses it too).
  if (continuing) parse_logical();
}

UnitFile UnitFile::load(const std::string& path, bool with_dropins) {
  UnitFile unit;
  unit.path_ = path;
  auto read = [](const std::string& p) {
    Mapping m = Mapping::map_file(p);
    return std::string(as_chars(m.bytes()));
  };
  unit.parse(read(path), path);
  if (with_dropins) {
    for (const std::string& d : dropin_paths(path)) {
      unit.parse(read(d), d);
      unit.dropins_.push_back(d);
    }
  }
  return unit;
}

std::vector<std::string> UnitFile::dropin_paths(const std::string& unit_path) {
  namespace fs = std::filesystem;
  fs::path p(unit_path);
  std::string name = p.filename().string();
  fs::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return {};
  std::string stem = name.substr(0, dot), type = name.substr(dot + 1);

  // Least specific first: "service.d", then "a-.service.d", "a-b-.service.d"
  // for a dashed name, then the template "a@.service.d", then "a@i.service.d".
  std::vector<std::string> dirs = {type + ".d"};
  std::string prefix_src = stem.substr(0, stem.find('@'));
  for (size_t dash = prefix_src.find('-'); dash != std::string::npos; dash = prefix_src.find('-', dash + 1))
    dirs.push_back(prefix_src.substr(0, dash + 1) + "." + type + ".d");
  size_t at = stem.find('@');
  if (at != std::string::npos && at + 1 < stem.size()) dirs.push_back(stem.substr(0, at + 1) + "." + type + ".d");
  dirs.push_back(name + ".d");

  std::map<std::string, std::string> by_name;  // lexical order of file names
  for (const std::string& d : dirs) {
    std::error_code ec;
    fs::directory_iterator it(dir / d, ec);
    if (ec) continue;
    for (const auto& e : it) {
      std::string fname = e.path().filename().string();
      if (!fname.ends_with(".conf")) continue;
      // A drop-in symlinked to /dev/null masks the same-named, less specific one.
      std::error_code ec2;
      fs::path target = fs::weakly_canonical(e.path(), ec2);
      if (!ec2 && target == "/dev/null") {
        by_name.erase(fname);
        continue;
      }
      if (!e.is_regular_file(ec2)) continue;
      by_name[fname] = e.path().string();
    }
  }
  std::vector<std::string> out;
  for (auto& [fname, full] : by_name) out.push_back(full);
  return out;
}

std::string UnitFile::name() const { return std::filesystem::path(path_).filename().string(); }

bool UnitFile::has_section(std::string_view section) const {
  return std::any_of(sections_.begin(), sections_.end(), [&](const Section& s) { return s.name == section; });
}

const UnitEntry* UnitFile::last(std::string_view section, std::string_view key) const {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (it->section == section && it->key == key) return &*it;
  return nullptr;
}

std::vector<const UnitEntry*> UnitFile::all(std::string_view section, std::string_view key) const {
  std::vector<const UnitEntry*> out;
  for (const UnitEntry& e : entries_)
    if (e.section == section && e.key == key) out.push_back(&e);
  return out;
}

std::vector<const UnitEntry*> UnitFile::list(std::string_view section, std::string_view key) const {
  std::vector<const UnitEntry*> out;
  for (const UnitEntry* e : all(section, key)) {
    if (e->value.empty()) out.clear();
    else out.push_back(e);
  }
  return out;
}

}  // namespace coldstart::unit
