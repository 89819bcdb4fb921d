// Host facts and the git revision, without spawning anything.
//
// cgroup version: statfs("/sys/fs/cgroup") reports CGROUP2_SUPER_MAGIC on a
// unified (v2-only) system; a v1 system that also mounts cgroup2 at
// /sys/fs/cgroup/unified is "hybrid" (systemd's name for it). git: .git is a
// directory, or a file "gitdir: PATH" in worktrees and submodules; HEAD is a
// commit id (detached) or "ref: refs/heads/NAME", resolved through the loose
// ref file or, after `git gc`, through packed-refs ("<sha> <ref>" lines).
#include "report/host_facts.h"

#include <sys/statfs.h>
#include <sys/utsname.h>

#include <filesystem>
#include <linux/magic.h>

#include "core/file.h"
#include "core/strings.h"

namespace coldstart::report {
namespace {

namespace fs = std::filesystem;

bool is_cgroup2(const char* path) {
  struct statfs st {};
  return ::statfs(path, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

std::string cpu_model() {
  auto text = read_text_file("/proc/cpuinfo");
  if (!text) return {};
  for (const std::string& line : split(*text, '\n')) {
    if (!starts_with(line, "model name")) continue;
    size_t colon = line.find(':');
    if (colon != std::string::npos) return std::string(trim(std::string_view(line).substr(colon + 1)));
  }
  return {};
}

bool is_commit_id(std::string_view s) {
  if (s.size() != 40 && s.size() != 64) return false;
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The git directory of the work tree containing `start`, if any.
std::optional<fs::path> find_git_dir(fs::path start) {
  std::error_code ec;
  start = fs::absolute(start, ec);
  for (fs::path dir = start; !dir.empty(); dir = dir.parent_path()) {
    fs::path dotgit = dir / ".git";
    if (fs::is_directory(dotgit, ec)) return dotgit;
    if (fs::is_regular_file(dotgit, ec)) {
      auto text = read_text_file(dotgit.string());
      if (text && starts_with(*text, "gitdir:")) {
        fs::path p(std::string(trim(std::string_view(*text).substr(7))));
        return p.is_absolute() ? p : dir / p;
      }
    }
    if (dir == dir.parent_path()) break;
  }
  return std::nullopt;
}

std::optional<std::string> resolve_ref(const fs::path& git_dir, const std::string& ref) {
  // A worktree keeps HEAD locally but refs in the common directory.
  fs::path common = git_dir;
  if (auto c = read_text_file((git_dir / "commondir").string())) common = git_dir / std::string(trim(*c));
  for (const fs::path& base : {git_dir, common}) {
    if (auto loose = read_text_file((base / ref).string())) {
      std::string id(trim(*loose));
      if (is_commit_id(id)) return id;
    }
    if (auto packed = read_text_file((base / "packed-refs").string())) {
      for (const std::string& line : split(*packed, '\n')) {
        size_t sp = line.find(' ');
        if (sp != std::string::npos && line.substr(sp + 1) == ref && is_commit_id(line.substr(0, sp)))
          return line.substr(0, sp);
      }
    }
  }
  return std::nullopt;
}

}  // namespace

HostFacts collect_host_facts() {
  HostFacts h;
  struct utsname u {};
  if (::uname(&u) == 0) {
    h.hostname = u.nodename;
    h.kernel = u.release;
  }
  h.cpu_model = cpu_model();
  if (is_cgroup2("/sys/fs/cgroup"))
    h.cgroup_version = "v2";
  else if (is_cgroup2("/sys/fs/cgroup/unified"))
    h.cgroup_version = "hybrid";
  else
    h.cgroup_version = "v1";
  return h;
}

std::optional<std::string> git_revision(const std::string& dir) {
  auto git_dir = find_git_dir(dir);
  if (!git_dir) return std::nullopt;
  auto head = read_text_file((*git_dir / "HEAD").string());
  if (!head) return std::nullopt;
  std::string h(trim(*head));
  if (is_commit_id(h)) return h;
  if (!starts_with(h, "ref:")) return std::nullopt;
  return resolve_ref(*git_dir, std::string(trim(std::string_view(h).substr(4))));
}

}  // namespace coldstart::report
