// Word-level grammars of unit settings (declared in unit_file_values.h):
// systemd's extract_first_word(EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE) with
// cunescape_one(), the Exec*= command syntax of load-fragment.c
// config_parse_exec(), Environment= assignments and unit specifiers.
//
// systemd checks for the ";" command separator and the "\;" literal on the
// raw text BEFORE unescaping a word, so "\;" never reaches cunescape (where
// it would be an invalid escape); we do the same.
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>

#include <fmt/format.h>

#include "unit/unit_file_values.h"

namespace coldstart::unit {
namespace {

constexpr std::string_view kWhitespace = " \t\n\r";

bool is_ws(char c) { return kWhitespace.find(c) != std::string_view::npos; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// cunescape_one(): decodes the escape after a backslash at s[i]; returns the
// number of bytes consumed after the backslash, or 0 if invalid.
size_t cunescape_one(std::string_view s, size_t i, std::string& out) {
  if (i >= s.size()) return 0;
  char c = s[i];
  switch (c) {
    case 'a': out.push_back('\a'); return 1;
    case 'b': out.push_back('\b'); return 1;
    case 'f': out.push_back('\f'); return 1;
    case 'n': out.push_back('\n'); return 1;
    case 'r': out.push_back('\r'); return 1;
    case 't': out.push_back('\t'); return 1;
    case 'v': out.push_back('\v'); return 1;
    case '\\': case '"': case '\'': out.push_back(c); return 1;
    case 's': out.push_back(' '); return 1;
    case 'x': case 'u': case 'U': {
      size_t digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
      if (s.size() - i - 1 < digits) return 0;
      uint32_t v = 0;
      for (size_t k = 1; k <= digits; ++k) {
        int h = hex_value(s[i + k]);
        if (h < 0) return 0;
        v = (v << 4) | static_cast<uint32_t>(h);
      }
      if (v == 0) return 0;  // no NUL bytes
      if (c == 'x') out.push_back(static_cast<char>(v));
      else if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
      else append_utf8(out, v);
      return digits + 1;
    }
    default:
      if (c >= '0' && c <= '7') {
        if (s.size() - i < 3) return 0;
        uint32_t v = 0;
        for (size_t k = 0; k < 3; ++k) {
          if (s[i + k] < '0' || s[i + k] > '7') return 0;
          v = v * 8 + static_cast<uint32_t>(s[i + k] - '0');
        }
        if (v == 0 || v > 255) return 0;
        out.push_back(static_cast<char>(v));
        return 3;
      }
      return 0;
  }
}

// One extract_first_word() call from `p`; returns false at the end of input.
bool next_word(std::string_view s, size_t& p, Word& word, size_t& error_at, std::string& error) {
  while (p < s.size() && is_ws(s[p])) ++p;
  if (p >= s.size()) return false;
  word = Word{{}, p};
  char quote = 0;
  for (; p < s.size(); ++p) {
    char c = s[p];
    if (c == '\\') {
      size_t used = cunescape_one(s, p + 1, word.text);
      if (used == 0) {
        error_at = p;
        error = p + 1 >= s.size() ? "trailing backslash" : fmt::format("invalid escape '\\{}'", s[p + 1]);
        return false;
      }
      p += used;
    } else if (quote != 0) {
      if (c == quote) quote = 0;
      else word.text.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (is_ws(c)) {
      break;
    } else {
      word.text.push_back(c);
    }
  }
  if (quote != 0) {
    error_at = word.offset;
    error = fmt::format("unterminated {} quote", quote == '"' ? "double" : "single");
    return false;
  }
  return true;
}

void set_offset(size_t* out, size_t v) {
  if (out != nullptr) *out = v;
}

}  // namespace

Result<std::vector<Word>> split_words(std::string_view value, size_t* error_offset) {
  std::vector<Word> words;
  size_t p = 0, err_at = 0;
  std::string err;
  Word w;
  while (next_word(value, p, w, err_at, err)) words.push_back(std::move(w));
  if (!err.empty()) {
    set_offset(error_offset, err_at);
    return unexpected(err);
  }
  return words;
}

Result<std::vector<ExecCommand>> parse_exec(std::string_view value, size_t* error_offset) {
  std::vector<ExecCommand> commands;
  size_t p = 0, err_at = 0;
  std::string err;
  auto fail = [&](size_t at, std::string message) {
    set_offset(error_offset, at);
    return unexpected(std::move(message));
  };
  for (;;) {
    while (p < value.size() && is_ws(value[p])) ++p;
    if (p >= value.size()) break;
    // The program word, with its prefixes.
    Word first;
    if (!next_word(value, p, first, err_at, err)) return fail(err_at, err);
    ExecCommand cmd;
    cmd.offset = first.offset;
    bool separate_argv0 = false;
    size_t k = 0;
    for (; k < first.text.size(); ++k) {
      char c = first.text[k];
      if (c == '-' && !cmd.ignore_failure) cmd.ignore_failure = true;
      else if (c == '@' && !separate_argv0) separate_argv0 = true;
      else if (c == ':' && !cmd.no_env_expansion) cmd.no_env_expansion = true;
      else if ((c == '+' || c == '!') && !cmd.privileged) {
        cmd.privileged = true;
        if (c == '!' && k + 1 < first.text.size() && first.text[k + 1] == '!') ++k;
      } else {
        break;
      }
    }
    cmd.path = first.text.substr(k);
    if (cmd.path.empty()) return fail(first.offset, "empty executable path");
    if (cmd.path.find('/') != std::string::npos && cmd.path.front() != '/')
      return fail(first.offset, fmt::format("executable path '{}' is neither absolute nor a plain name", cmd.path));
    if (!separate_argv0) cmd.argv.push_back(cmd.path);
    // Arguments up to an unquoted lone ";".
    for (;;) {
      while (p < value.size() && is_ws(value[p])) ++p;
      if (p >= value.size()) break;
      std::string_view rest = value.substr(p);
      if (rest[0] == ';' && (rest.size() == 1 || is_ws(rest[1]))) {
        ++p;
        break;
      }
      if (rest.starts_with("\\;") && (rest.size() == 2 || is_ws(rest[2]))) {
        cmd.argv.emplace_back(";");
        p += 2;
        continue;
      }
      Word w;
      if (!next_word(value, p, w, err_at, err)) return fail(err_at, err);
      cmd.argv.push_back(std::move(w.text));
    }
    if (cmd.argv.empty()) return fail(first.offset, "'@' prefix without an argv[0] word");
    commands.push_back(std::move(cmd));
  }
  return commands;
}

std::string resolve_exec_path(const std::string& program) {
  if (program.empty() || program.front() == '/') return program;
  for (const char* dir : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    std::string candidate = std::string(dir) + "/" + program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return "";
}

bool env_name_is_valid(std::string_view n) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_environment(std::string_view value,
                                                                          size_t* error_offset) {
  auto words = split_words(value, error_offset);
  if (!words) return unexpected(words.error());
  std::vector<std::pair<std::string, std::string>> out;
  for (Word& w : *words) {
    size_t eq = w.text.find('=');
    if (eq == std::string::npos || !env_name_is_valid(std::string_view(w.text).substr(0, eq))) {
      set_offset(error_offset, w.offset);
      return unexpected(fmt::format("invalid environment assignment '{}'", w.text));
    }
    out.emplace_back(w.text.substr(0, eq), w.text.substr(eq + 1));
  }
  return out;
}

namespace {

// unit_name_unescape() for %I/%J: "\xNN" sequences decoded, '-' becomes '/'.
std::string unescape_unit_part(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '-') {
      out.push_back('/');
    } else if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && hex_value(s[i + 2]) >= 0 &&
               hex_value(s[i + 3]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 2]) * 16 + hex_value(s[i + 3])));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

Result<std::string> expand_specifiers(std::string_view text, const std::string& unit_name) {
  size_t dot = unit_name.rfind('.');
  std::string stem = unit_name.substr(0, dot);
  size_t at = stem.find('@');
  std::string prefix = stem.substr(0, at);
  std::string instance = at == std::string::npos ? "" : stem.substr(at + 1);
  std::string prefix_head = prefix.substr(0, prefix.find('-'));
  std::string path_of_name = "/" + unescape_unit_part(instance.empty() ? prefix : instance);
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 1 >= text.size()) return unexpected("'%' at the end of the value");
    char c = text[++i];
    switch (c) {
      case '%': out += '%'; break;
      case 'n': out += unit_name; break;
      case 'N': out += stem; break;
      case 'p': out += prefix; break;
      case 'P': out += unescape_unit_part(prefix); break;
      case 'i': out += instance; break;
      case 'I': out += unescape_unit_part(instance); break;
      case 'j': out += prefix_head; break;
      case 'J': out += unescape_unit_part(prefix_head); break;
      case 'f': out += path_of_name; break;
      case 't': out += "/run"; break;
      case 'S': out += "/var/lib"; break;
      case 'C': out += "/var/cache"; break;
      case 'L': out += "/var/log"; break;
      case 'E': out += "/etc"; break;
      case 'T': out += "/tmp"; break;
      case 'V': out += "/var/tmp"; break;
      case 'h': out += "/root"; break;
      default:
        // Known to systemd but host-dependent: keep verbatim.
        if (std::string_view("aAbBdgGHlmMoqsuUvwWy").find(c) != std::string_view::npos) {
          out += '%';
          out += c;
          break;
        }
        return unexpected(fmt::format("unknown specifier '%{}'", c));
    }
  }
  return out;
}

}  // namespace coldstart::unit
