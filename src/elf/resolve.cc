// Library resolution as glibc 2.36's ld.so does it (elf/dl-load.c
// _dl_map_object, elf/dl-deps.c _dl_map_object_deps), without running it.
//
// Load order is breadth first: the main binary's DT_NEEDED in order, then the
// needs of each object in the order they were loaded. Each file is loaded
// once: a name matches an already loaded object by the name it was loaded
// with or its DT_SONAME (the interpreter, loaded first by the kernel, is
// matched by its soname too), and a newly found file by (st_dev, st_ino).
//
// For a name without '/', the search order with loader L (the object whose
// DT_NEEDED it is) is:
//   1. if L has no DT_RUNPATH: DT_RPATH of L, of the object that loaded L, ...
//      up to the main binary (the chain of first loaders), then the main
//      binary's DT_RPATH;
//   2. LD_LIBRARY_PATH;
//   3. DT_RUNPATH of L only (RUNPATH does not apply to indirect needs);
//   4. /etc/ld.so.cache, unless L has DF_1_NODEFLIB;
//   5. the default directories, unless DF_1_NODEFLIB.
// In path lists, $ORIGIN / ${ORIGIN} is the directory of the object (for the
// main binary the canonical one, from /proc/self/exe; for libraries the
// directory of the path it was opened by), $LIB and $PLATFORM what this ld.so
// substitutes. Each directory is tried with its glibc-hwcaps and legacy
// hardware-capability subdirectories first, but only those that exist.
// A candidate that exists but is not an ELF64 x86-64 ET_DYN object is skipped
// and the search goes on, as open_verify() does ("wrong ELF class").
#include "elf/resolve.h"

#include <cpuid.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <deque>
#include <map>
#include <unordered_map>

#include "core/bytes.h"
#include "core/error.h"
#include "core/file.h"
#include "core/strings.h"
#include "elf/elf_file.h"

namespace coldstart::elf {
namespace {

std::string dirname_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

// Substitutes $ORIGIN, $LIB, $PLATFORM (and the ${...} forms); nullopt when
// $ORIGIN is needed but unknown, which makes ld.so drop the element.
std::optional<std::string> expand_dst(std::string_view s, const std::string& origin, const LoaderEnv& env) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '$') {
      out.push_back(s[i]);
      continue;
    }
    std::string_view rest = s.substr(i + 1);
    auto take = [&](std::string_view word) -> size_t {
      if (rest.starts_with(word)) {
        size_t n = word.size();
        if (n < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[n])) || rest[n] == '_')) return 0;
        return n;
      }
      if (rest.size() > word.size() + 1 && rest[0] == '{' && rest.substr(1, word.size()) == word &&
          rest[word.size() + 1] == '}')
        return word.size() + 2;
      return 0;
    };
    if (size_t n = take("ORIGIN")) {
      if (origin.empty()) return std::nullopt;
      out += origin, i += n;
    } else if (size_t n = take("PLATFORM")) {
      if (env.platform.empty()) return std::nullopt;
      out += env.platform, i += n;
    } else if (size_t n = take("LIB")) {
      out += env.lib, i += n;
    } else {
      out.push_back('$');
    }
  }
  return out;
}

struct Candidate {
  enum Kind { kMissing, kWrongClass, kOk } kind = kMissing;
  dev_t dev = 0;
  ino_t ino = 0;
};

// What open_verify() would say about `path`.
Candidate probe(const std::string& path) {
  Candidate c;
  auto fd = try_open(path, O_RDONLY);
  if (!fd) return c;
  struct stat st;
  if (::fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode)) return c;
  std::byte head[64];
  ssize_t n = ::pread(fd->get(), head, sizeof head, 0);
  c.dev = st.st_dev, c.ino = st.st_ino;
  auto id = n > 0 ? read_ident(std::span<const std::byte>(head, static_cast<size_t>(n))) : std::nullopt;
  c.kind = id && is_supported(*id) && id->type == ET_DYN ? Candidate::kOk : Candidate::kWrongClass;
  return c;
}

/// Resolver carries the state of one resolution: the loaded objects, the
/// per-object search inputs and the directory-existence cache ld.so also keeps.
class Resolver {
 public:
  Resolver(const LoaderEnv& env) : env_(env) {}

  DependencyTree run(const std::string& path);

 private:
  struct Info {
    std::string soname;
    std::string origin;
    std::vector<std::string> rpath, runpath;  // raw, unexpanded elements
    bool nodeflib = false;
  };

  int add_object(LoadedObject obj, const Candidate& c);
  void fill_info(int index, const ElfFile& file);
  void load_needs(int index, const ElfFile& file);
  std::optional<int> find_loaded(const std::string& name) const;
  bool search_dirs(const std::vector<std::string>& dirs, const std::string& origin, const std::string& name,
                   std::string& found, Candidate& cand, std::string& wrong);
  bool dir_exists(const std::string& dir);

  const LoaderEnv& env_;
  DependencyTree tree_;
  std::vector<Info> info_;
  std::map<std::pair<dev_t, ino_t>, int> by_inode_;
  std::unordered_map<std::string, bool> dirs_;
};

bool Resolver::dir_exists(const std::string& dir) {
  auto [it, inserted] = dirs_.try_emplace(dir, false);
  if (inserted) {
    struct stat st;
    it->second = ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  return it->second;
}

bool Resolver::search_dirs(const std::vector<std::string>& dirs, const std::string& origin,
                           const std::string& name, std::string& found, Candidate& cand, std::string& wrong) {
  // Legacy capability subdirectories: every subset of (tls, $PLATFORM, avx512_1, x86_64), largest first.
  std::vector<std::string> parts{"tls"};
  if (!env_.platform.empty() && env_.platform != "x86_64") parts.push_back(env_.platform);
  if (env_.avx512_1) parts.push_back("avx512_1");
  parts.push_back("x86_64");
  for (const auto& raw : dirs) {
    auto dir = expand_dst(raw.empty() ? "." : raw, origin, env_);
    if (!dir || !dir_exists(*dir)) continue;
    std::vector<std::string> subdirs;
    for (const auto& h : env_.hwcaps_subdirs) subdirs.push_back("glibc-hwcaps/" + h);
    for (unsigned mask = (1u << parts.size()) - 1; mask > 0; --mask) {
      std::string sub;
      for (size_t b = 0; b < parts.size(); ++b)
        if (mask & (1u << (parts.size() - 1 - b))) sub += (sub.empty() ? "" : "/") + parts[b];
      subdirs.push_back(sub);
    }
    subdirs.push_back("");
    for (const auto& sub : subdirs) {
      std::string d = sub.empty() ? *dir : *dir + "/" + sub;
      if (!sub.empty() && !dir_exists(d)) continue;
      std::string candidate = (d.ends_with('/') ? d : d + "/") + name;
      Candidate c = probe(candidate);
      if (c.kind == Candidate::kOk) {
        found = candidate, cand = c;
        return true;
      }
      if (c.kind == Candidate::kWrongClass && wrong.empty()) wrong = candidate;
    }
  }
  return false;
}

std::optional<int> Resolver::find_loaded(const std::string& name) const {
  for (size_t i = 0; i < tree_.objects.size(); ++i)
    if (tree_.objects[i].name == name || info_[i].soname == name) return static_cast<int>(i);
  return std::nullopt;
}

int Resolver::add_object(LoadedObject obj, const Candidate& c) {
  Info info;
  if (obj.via == FoundVia::kMain) {
    char real[PATH_MAX];
    info.origin = ::realpath(obj.path.c_str(), real) ? dirname_of(real) : dirname_of(absolute(obj.path));
  } else {
    info.origin = dirname_of(absolute(obj.path));
  }
  int index = static_cast<int>(tree_.objects.size());
  tree_.objects.push_back(std::move(obj));
  info_.push_back(std::move(info));
  if (c.kind == Candidate::kOk) by_inode_.emplace(std::make_pair(c.dev, c.ino), index);
  return index;
}

void Resolver::fill_info(int index, const ElfFile& file) {
  Info& info = info_[index];
  if (auto s = file.dynamic_value(DT_SONAME)) info.soname = std::string(file.dynamic_string(*s).value_or(""));
  for (uint64_t off : file.dynamic_values(DT_RPATH))
    for (auto& e : split(file.dynamic_string(off).value_or(""), ':')) info.rpath.push_back(e);
  for (uint64_t off : file.dynamic_values(DT_RUNPATH))
    for (auto& e : split(file.dynamic_string(off).value_or(""), ':')) info.runpath.push_back(e);
  info.nodeflib = (file.dynamic_value(DT_FLAGS_1).value_or(0) & DF_1_NODEFLIB) != 0;
}

void Resolver::load_needs(int index, const ElfFile& file) {
  for (uint64_t off : file.dynamic_values(DT_NEEDED)) {
    std::string name(file.dynamic_string(off).value_or(""));
    if (name.empty()) continue;
    Need need{name, -1};
    if (auto loaded = find_loaded(name)) {
      need.object = *loaded;
      tree_.objects[index].needs.push_back(need);
      continue;
    }
    std::string found, wrong;
    Candidate cand;
    FoundVia via = FoundVia::kNotFound;
    const Info me = info_[index];  // a copy: add_object() grows info_
    if (name.find('/') != std::string::npos) {
      if (auto p = expand_dst(name, me.origin, env_)) {
        cand = probe(*p);
        if (cand.kind == Candidate::kOk) found = *p, via = FoundVia::kPath;
        else if (cand.kind == Candidate::kWrongClass) wrong = *p;
      }
    } else {
      if (me.runpath.empty()) {
        for (int l = index; l >= 0 && via == FoundVia::kNotFound; l = tree_.objects[l].loaded_by)
          if (!info_[l].rpath.empty() && search_dirs(info_[l].rpath, info_[l].origin, name, found, cand, wrong))
            via = FoundVia::kRpath;
      }
      if (via == FoundVia::kNotFound && search_dirs(env_.ld_library_path, "", name, found, cand, wrong))
        via = FoundVia::kLdLibraryPath;
      if (via == FoundVia::kNotFound && !me.runpath.empty() &&
          search_dirs(me.runpath, me.origin, name, found, cand, wrong))
        via = FoundVia::kRunpath;
      if (via == FoundVia::kNotFound && !me.nodeflib && env_.cache) {
        if (auto p = env_.cache->lookup(name)) {
          Candidate c = probe(*p);
          if (c.kind == Candidate::kOk) found = *p, cand = c, via = FoundVia::kCache;
        }
      }
      if (via == FoundVia::kNotFound && !me.nodeflib && search_dirs(env_.default_dirs, "", name, found, cand, wrong))
        via = FoundVia::kDefaultDir;
    }
    if (via == FoundVia::kNotFound) {
      tree_.unresolved.push_back({name, tree_.objects[index].path,
                                  wrong.empty() ? "not found" : "wrong ELF class or machine: " + wrong});
      tree_.objects[index].needs.push_back(need);
      continue;
    }
    if (auto same = by_inode_.find({cand.dev, cand.ino}); same != by_inode_.end()) {
      need.object = same->second;
    } else {
      LoadedObject obj{name, found, via, index, tree_.objects[index].depth + 1, {}};
      need.object = add_object(std::move(obj), cand);
    }
    tree_.objects[index].needs.push_back(need);
  }
}

DependencyTree Resolver::run(const std::string& path) {
  ElfFile main = ElfFile::open(path);
  add_object(LoadedObject{path, path, FoundVia::kMain, -1, 0, {}}, probe(path));
  fill_info(0, main);
  int interp = -1;
  if (auto in = main.interpreter()) {
    tree_.interpreter = std::string(*in);
    interp = add_object(LoadedObject{tree_.interpreter, tree_.interpreter, FoundVia::kPath, 0, 1, {}},
                        probe(tree_.interpreter));
    try {
      fill_info(interp, ElfFile::open(tree_.interpreter));
    } catch (const UserError& e) {
      tree_.unresolved.push_back({tree_.interpreter, path, std::string("cannot be loaded: ") + e.what()});
    }
    // Later DT_NEEDEDs name ld.so by its soname, not by the PT_INTERP string.
    if (info_[interp].soname.empty()) info_[interp].soname = tree_.interpreter;
  }
  // Breadth first: objects are appended while this loop walks them.
  load_needs(0, main);
  for (size_t i = 1; i < tree_.objects.size(); ++i) {
    if (static_cast<int>(i) == interp) continue;  // parsed above; ld.so has no DT_NEEDED
    try {
      ElfFile lib = ElfFile::open(tree_.objects[i].path);
      fill_info(static_cast<int>(i), lib);
      load_needs(static_cast<int>(i), lib);
    } catch (const UserError& e) {
      tree_.unresolved.push_back({tree_.objects[i].name, tree_.objects[tree_.objects[i].loaded_by].path,
                                  std::string("cannot be loaded: ") + e.what()});
    }
  }
  return std::move(tree_);
}

}  // namespace

std::string_view found_via_name(FoundVia via) {
  switch (via) {
    case FoundVia::kMain: return "main";
    case FoundVia::kPath: return "path";
    case FoundVia::kRpath: return "rpath";
    case FoundVia::kLdLibraryPath: return "ld_library_path";
    case FoundVia::kRunpath: return "runpath";
    case FoundVia::kCache: return "ld.so.cache";
    case FoundVia::kDefaultDir: return "default_dir";
    case FoundVia::kNotFound: return "not_found";
  }
  return "?";
}

namespace {

// glibc (sysdeps/x86/cpu-features.c, x86-64, Intel CPUs only) replaces the
// kernel's AT_PLATFORM by "haswell" when AVX2, FMA, BMI1, BMI2, LZCNT, MOVBE and
// POPCNT are usable, or "xeon_phi" with AVX512ER+PF, and adds the legacy
// "avx512_1" capability with AVX512CD+BW+DQ+VL. $PLATFORM and the legacy
// subdirectories follow what ld.so computed, not the kernel's value.
void apply_glibc_platform(LoaderEnv& env) {
  __builtin_cpu_init();
  if (!__builtin_cpu_is("intel")) return;
  unsigned a, b, c, d;
  unsigned leaf1_c = 0, leaf7_b = 0, ext1_c = 0;
  if (__get_cpuid(1, &a, &b, &c, &d)) leaf1_c = c;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) leaf7_b = b;
  if (__get_cpuid(0x80000001, &a, &b, &c, &d)) ext1_c = c;
  bool movbe = leaf1_c & (1u << 22), lzcnt = ext1_c & (1u << 5);
  bool avx512cd = __builtin_cpu_supports("avx512cd");
  bool avx512er = avx512cd && (leaf7_b & (1u << 27)), avx512pf = avx512cd && (leaf7_b & (1u << 26));
  const char* platform = nullptr;
  if (avx512er) {
    if (avx512pf) platform = "xeon_phi";
  } else if (avx512cd && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl")) {
    env.avx512_1 = true;
  }
  if (platform == nullptr && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") && lzcnt && movbe &&
      __builtin_cpu_supports("popcnt"))
    platform = "haswell";
  if (platform != nullptr) env.platform = platform;
}

}  // namespace

LoaderEnv LoaderEnv::from_process() {
  LoaderEnv env;
  if (const char* llp = std::getenv("LD_LIBRARY_PATH"); llp && *llp) {
    // ld.so splits on ':' and ';'.
    std::string s(llp);
    for (char& c : s)
      if (c == ';') c = ':';
    env.ld_library_path = split(s, ':');
  }
  if (auto p = reinterpret_cast<const char*>(::getauxval(AT_PLATFORM))) env.platform = p;
  apply_glibc_platform(env);
  env.default_dirs = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"};
  // The x86-64 psABI levels by the CPU features both gcc and clang can test
  // (cx16/lahf/movbe/f16c/lzcnt/xsave are implied on every real CPU that has the rest).
  __builtin_cpu_init();
  bool v2 = __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("sse3") &&
            __builtin_cpu_supports("ssse3") && __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("sse4.2");
  bool v3 = v2 && __builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
            __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("fma");
  bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512vl");
  if (v4) env.hwcaps_subdirs.push_back("x86-64-v4");
  if (v3) env.hwcaps_subdirs.push_back("x86-64-v3");
  if (v2) env.hwcaps_subdirs.push_back("x86-64-v2");
  env.cache = std::make_shared<LdCache>(LdCache::load());
  return env;
}

DependencyTree resolve_dependencies(const std::string& path, const LoaderEnv& env) {
  return Resolver(env).run(path);
}

}  // namespace coldstart::elf
