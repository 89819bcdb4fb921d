// Facts about the program an ExecStart= runs.
//
// systemd's protocols are environment variables the service reads
// (NOTIFY_SOCKET, LISTEN_FDS, WATCHDOG_USEC), so a program that speaks them
// carries the names as string constants: in its own read-only data, or in a
// library it needs whose sd_notify()/sd_listen_fds() read them (libsystemd.so.0
// for most services; systemd's own daemons need libsystemd-shared-252.so,
// found through their RUNPATH). The libraries are the DT_NEEDED entries of
// the program itself, resolved as ld.so (and `coldstart inspect`) resolves
// them; libraries needed only by other libraries are not counted, since that
// a library uses sd_notify for itself says nothing about the program.
//
// A script is followed through its "#!" line as execve(2) does
// (fs/binfmt_script.c: the first 256 bytes, an interpreter path, at most one
// argument that is the rest of the line; up to 4 nested interpreters), and
// through "/usr/bin/env NAME", which looks NAME up in $PATH: systemd gives a
// service its fixed default search path unless the unit sets PATH=.
//
// Go's build info gives the toolchain version: Go >= 1.25 derives
// GOMAXPROCS from the cgroup CPU limit itself, older Go uses every host CPU.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "core/error.h"
#include "core/file.h"
#include "core/strings.h"
#include "elf/elf.h"
#include "elf/resolve.h"
#include "lint/facts.h"
#include "unit/unit_file_values.h"

namespace coldstart::lint {
namespace {

constexpr size_t kShebangBuffer = 256;  // BINPRM_BUF_SIZE
constexpr int kMaxInterpreters = 4;     // execve's binfmt recursion limit

/// The three protocol strings of one file's read-only data.
struct Strings {
  bool notify = false, listen_fds = false, watchdog = false, ready = false;
};

/// ProgramProber answers BinaryProbe questions, reading each file once.
/// Owned by the BinaryProbe that make_binary_probe() returns.
class ProgramProber {
 public:
  Result<BinaryFacts> probe(const std::string& path) {
    BinaryFacts facts;
    std::string current = path;
    for (int depth = 0;; ++depth) {
      struct stat st {};
      if (current.empty() || ::stat(current.c_str(), &st) != 0) return unexpected(fmt::format("{} not found", current));
      if (!S_ISREG(st.st_mode)) return unexpected(fmt::format("{} is not a regular file", current));
      std::string head = read_head(current);
      if (head.starts_with("\x7f" "ELF")) break;
      std::optional<Shebang> shebang = parse_shebang(head);
      if (!shebang) return unexpected(fmt::format("{} is neither an ELF file nor a #! script", current));
      if (depth == kMaxInterpreters)
        return unexpected(fmt::format("{}: more than {} nested #! interpreters", path, kMaxInterpreters));
      std::string line = head.substr(0, head.find('\n'));
      facts.scripts.emplace_back(current, std::string(trim(line)));
      auto next = interpreter_program(*shebang);
      if (!next) return unexpected(next.error());
      current = *next;
    }
    auto elf_facts = elf_facts_of(current);
    if (!elf_facts) return unexpected(elf_facts.error());
    BinaryFacts out = *elf_facts;
    out.scripts = std::move(facts.scripts);
    return out;
  }

 private:
  static std::string read_head(const std::string& path) {
    auto fd = try_open(path, O_RDONLY);
    if (!fd) return "";
    char buf[kShebangBuffer];
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

  // The program a "#!" line runs: the interpreter, or what env runs.
  static Result<std::string> interpreter_program(const Shebang& s) {
    if (s.interpreter.front() != '/')
      return unexpected(fmt::format("#! interpreter '{}' is not an absolute path", s.interpreter));
    if (std::filesystem::path(s.interpreter).filename() != "env") return s.interpreter;
    std::vector<std::string> command = env_command(s.argument);
    if (command.empty()) return unexpected(fmt::format("#!{} {}: env is given no program", s.interpreter, s.argument));
    const std::string& name = command.front();
    if (name.find('/') != std::string::npos) return name;
    std::string found = unit::resolve_exec_path(name);
    if (found.empty()) {
      if (name.find_first_of(" \t") != std::string::npos)
        return unexpected(fmt::format("'{}' not found in PATH (#!{} {} passes it to env as one word; use env -S)",
                                      name, s.interpreter, s.argument));
      return unexpected(fmt::format("{} not found in PATH (run by #!{} {})", name, s.interpreter, s.argument));
    }
    return found;
  }

  Result<BinaryFacts> elf_facts_of(const std::string& path) {
    auto it = elf_cache_.find(path);
    if (it != elf_cache_.end()) return it->second;
    Result<BinaryFacts> r = read_elf_facts(path);
    elf_cache_.emplace(path, r);
    return r;
  }

  Result<BinaryFacts> read_elf_facts(const std::string& path) {
    BinaryFacts f;
    f.path = path;
    try {
      elf::ElfInfo info = elf::read_elf(path);
      f.is_go = info.is_go;
      f.go_version = info.go_version;
      Strings own = strings_of(path);
      auto note = [&](bool has, bool& speaks, std::string& evidence, const char* name) {
        if (has && !speaks) speaks = true, evidence = fmt::format("has a {} string", name);
      };
      note(own.notify, f.speaks_notify, f.notify_evidence, "NOTIFY_SOCKET");
      note(own.listen_fds, f.speaks_listen_fds, f.listen_fds_evidence, "LISTEN_FDS");
      note(own.watchdog, f.speaks_watchdog, f.watchdog_evidence, "WATCHDOG_USEC");
      note(own.ready, f.sends_ready, f.ready_evidence, "READY=1");
      if (!info.is_static) {
        elf::DependencyTree tree = elf::resolve_dependencies(path, loader_env());
        for (const elf::Need& need : tree.objects.at(0).needs) {
          f.needed.push_back(need.name);
          if (need.object < 0) continue;
          Strings lib = strings_of(tree.objects[static_cast<size_t>(need.object)].path);
          auto via = [&](bool has, bool& speaks, std::string& evidence, const char* name) {
            if (has && !speaks) speaks = true, evidence = fmt::format("needs {}, which has a {} string", need.name, name);
          };
          via(lib.notify, f.speaks_notify, f.notify_evidence, "NOTIFY_SOCKET");
          via(lib.listen_fds, f.speaks_listen_fds, f.listen_fds_evidence, "LISTEN_FDS");
          via(lib.watchdog, f.speaks_watchdog, f.watchdog_evidence, "WATCHDOG_USEC");
          via(lib.ready, f.sends_ready, f.ready_evidence, "READY=1");
        }
      }
    } catch (const UserError& e) {
      return unexpected(e.what());
    }
    return f;
  }

  // Requires: `path` is an ELF file (a library that is not one has no strings).
  Strings strings_of(const std::string& path) {
    auto it = strings_cache_.find(path);
    if (it != strings_cache_.end()) return it->second;
    Strings s;
    try {
      s = {elf::has_string(path, "NOTIFY_SOCKET"), elf::has_string(path, "LISTEN_FDS"),
           elf::has_string(path, "WATCHDOG_USEC"), elf::has_string(path, "READY=1")};
    } catch (const UserError&) {
      // ld.so would refuse it too; resolve_dependencies already skips such files.
    }
    strings_cache_.emplace(path, s);
    return s;
  }

  const elf::LoaderEnv& loader_env() {
    if (!env_) env_ = elf::LoaderEnv::from_process();
    return *env_;
  }

  std::optional<elf::LoaderEnv> env_;
  std::map<std::string, Result<BinaryFacts>> elf_cache_;
  std::map<std::string, Strings> strings_cache_;
};

}  // namespace

std::optional<std::pair<int, int>> BinaryFacts::go_release() const {
  int major = 0, minor = 0;
  if (std::sscanf(go_version.c_str(), "go%d.%d", &major, &minor) != 2) return std::nullopt;
  return std::make_pair(major, minor);
}

BinaryProbe make_binary_probe() {
  auto prober = std::make_shared<ProgramProber>();
  return [prober](const std::string& path) { return prober->probe(path); };
}

std::optional<Shebang> parse_shebang(std::string_view head) {
  if (!head.starts_with("#!")) return std::nullopt;
  head = head.substr(0, kShebangBuffer);
  size_t nl = head.find('\n');
  std::string_view line = head.substr(2, nl == std::string_view::npos ? std::string_view::npos : nl - 2);
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!line.empty() && blank(line.front())) line.remove_prefix(1);
  while (!line.empty() && (blank(line.back()) || line.back() == '\r')) line.remove_suffix(1);
  size_t end = 0;
  while (end < line.size() && !blank(line[end])) ++end;
  // Without a newline in the buffer, a name that reaches its end may be cut:
  // the kernel refuses it (ENOEXEC) rather than run a truncated path.
  if (end == 0 || (nl == std::string_view::npos && end == line.size() && head.size() == kShebangBuffer))
    return std::nullopt;
  Shebang s{std::string(line.substr(0, end)), ""};
  std::string_view rest = line.substr(end);
  while (!rest.empty() && blank(rest.front())) rest.remove_prefix(1);
  s.argument = std::string(rest);
  return s;
}

std::vector<std::string> env_command(std::string_view argument) {
  std::vector<std::string> words;
  if (argument.starts_with("-S") || argument.starts_with("--split-string")) {
    std::string_view rest = argument.substr(argument.starts_with("-S") ? 2 : std::strlen("--split-string"));
    if (rest.starts_with("=")) rest.remove_prefix(1);
    for (const std::string& w : split(rest, ' '))
      if (!trim(w).empty()) words.emplace_back(trim(w));
  } else if (!argument.empty()) {
    words.emplace_back(argument);
  }
  size_t i = 0;
  while (i < words.size()) {
    const std::string& w = words[i];
    if (w == "--") {
      ++i;
      break;
    }
    if (w == "-u" || w == "-C" || w == "--unset" || w == "--chdir") i += 2;
    else if (w.starts_with("-") || (w.find('=') != std::string::npos && w.front() != '=')) ++i;
    else break;
  }
  return {words.begin() + static_cast<std::ptrdiff_t>(std::min(i, words.size())), words.end()};
}

}  // namespace coldstart::lint
