// Preparing an image launch, and --relayer.
//
// Relayering: every visible path of the merged view gets one of N layers:
// files (and symlinks) spread evenly in path order (the k-th of n goes to
// layer k*N/n), except with :top the program and its libraries, which go to
// layer 0, the lowest, so that their lookups walk the whole stack. A file's
// parent directories exist in its layer (same mode and owner); directories
// with nothing under them live in layer 0. Regular files are hard links to
// the unpacked layer's inode: no data is copied, and the page cache of a file
// is shared by every stack that holds it. Built in a temporary directory and
// renamed into place, so a half-built stack is never used.
#include "image/prepare.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"
#include "elf/elf.h"
#include "elf/resolve.h"
#include "image/digest.h"

namespace coldstart::image {
namespace {

void mkdirs_like(const Tree& merged, const std::string& layer_dir, const std::string& image_dir) {
  std::string cur;
  for (const auto& part : split(image_dir, '/')) {
    if (part.empty()) continue;
    cur += "/" + part;
    std::string dst = layer_dir + cur;
    struct stat st {};
    if (::lstat(dst.c_str(), &st) == 0) continue;
    std::string src = merged.host_path(cur);
    struct stat s {};
    if (src.empty() || ::lstat(src.c_str(), &s) != 0) s.st_mode = S_IFDIR | 0755;
    if (::mkdir(dst.c_str(), s.st_mode & 07777) != 0) throw_sys("mkdir", dst);
    if (!src.empty()) (void)::lchown(dst.c_str(), s.st_uid, s.st_gid);
    (void)::chmod(dst.c_str(), s.st_mode & 07777);
  }
}

std::string parent_of(const std::string& p) { return p.substr(0, p.rfind('/')); }

}  // namespace

Relayer Relayer::parse(const std::string& text) {
  Relayer r;
  std::string n = text;
  if (n.ends_with(":top")) {
    r.top = true;
    n.resize(n.size() - 4);
  }
  if (n.empty() || n.size() > 3 || n.find_first_not_of("0123456789") != std::string::npos) {
    throw UserError("bad --relayer '" + text + "' (want N or N:top, N from 1 to 500)");
  }
  r.layers = std::stoul(n);
  if (r.layers < 1 || r.layers > 500) throw UserError("bad --relayer '" + text + "' (N from 1 to 500)");
  return r;
}

std::string Relayer::text() const { return layers == 0 ? "" : fmt::format("{}{}", layers, top ? ":top" : ""); }

std::vector<std::string> PreparedImage::host_files() const {
  std::vector<std::string> out;
  for (const auto& [path, n] : tree.nodes) {
    if (n.type == Node::Type::kFile) out.push_back(tree.layer_dirs[static_cast<size_t>(n.layer)] + path);
  }
  return out;
}

std::vector<std::string> image_libraries(const Tree& tree, const std::string& program) {
  std::vector<std::string> out;
  auto real = tree.resolve(program);
  if (!real) return out;
  std::string host = tree.host_path(*real);
  elf::ElfInfo info;
  try {
    info = elf::read_elf(host);
  } catch (const UserError&) {
    return out;  // a script: nothing the loader maps
  }
  if (info.is_static) return out;
  auto add = [&](const std::string& image_path) {
    if (std::find(out.begin(), out.end(), image_path) == out.end()) out.push_back(image_path);
    if (auto r = tree.resolve(image_path); r && *r != image_path &&
                                           std::find(out.begin(), out.end(), *r) == out.end()) {
      out.push_back(*r);
    }
  };
  if (!info.interpreter.empty() && tree.resolve(info.interpreter)) add(info.interpreter);
  // ld.so's default directories, searched in every layer, top first: a
  // library's copy in a higher layer is the one the mount shows.
  elf::LoaderEnv env;
  for (const char* dir : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}) {
    for (auto l = tree.layer_dirs.rbegin(); l != tree.layer_dirs.rend(); ++l) env.ld_library_path.push_back(*l + dir);
  }
  elf::DependencyTree deps = elf::resolve_dependencies(host, env);
  for (size_t i = 1; i < deps.objects.size(); ++i) {
    const std::string& p = deps.objects[i].path;
    for (const auto& l : tree.layer_dirs) {
      if (p.starts_with(l + "/")) {
        std::string image_path = p.substr(l.size());
        if (tree.resolve(image_path)) add(image_path);
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> relayer_stack(const Image& image, const Tree& merged, Relayer relayer,
                                       const std::vector<std::string>& pinned) {
  const size_t n = relayer.layers;
  const std::string base = cache_root() + "/relayer";
  const std::string name = digest_hex(image.manifest_digest).substr(0, 16) + "-" + std::to_string(n) + (relayer.top ? "-top" : "");
  const std::string dir = base + "/" + name;
  std::vector<std::string> stack;
  for (size_t i = 0; i < n; ++i) stack.push_back(dir + "/" + std::to_string(i));
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return stack;

  const std::string tmp = base + "/.tmp-" + name + "-" + std::to_string(::getpid());
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      if (!path.empty()) remove_tree(path);
    }
  } cleanup{tmp};
  remove_tree(tmp);
  for (const auto& d : {cache_root(), base, tmp}) {
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) throw_sys("mkdir", d);
  }
  for (size_t i = 0; i < n; ++i) {
    std::string l = tmp + "/" + std::to_string(i);
    if (::mkdir(l.c_str(), 0755) != 0) throw_sys("mkdir", l);
  }
  std::set<std::string> pin(pinned.begin(), pinned.end());
  std::vector<std::string> spread;
  for (const auto& [path, node] : merged.nodes) {
    if (node.type == Node::Type::kDir) continue;
    if (!pin.count(path)) spread.push_back(path);
  }
  auto place = [&](const std::string& path, size_t layer) {
    const Node& node = merged.nodes.at(path);
    const std::string l = tmp + "/" + std::to_string(layer);
    mkdirs_like(merged, l, parent_of(path));
    const std::string src = merged.host_path(path);
    const std::string dst = l + path;
    if (node.type == Node::Type::kSymlink) {
      if (::symlink(node.target.c_str(), dst.c_str()) != 0) throw_sys("symlink", dst);
      struct stat s {};
      if (::lstat(src.c_str(), &s) == 0) (void)::lchown(dst.c_str(), s.st_uid, s.st_gid);
    } else if (node.type == Node::Type::kFile) {
      if (::link(src.c_str(), dst.c_str()) != 0) throw_sys("link", src + " -> " + dst);
    }
    // Devices, FIFOs, sockets of an image are not re-split.
  };
  for (const auto& p : pin) {
    if (merged.nodes.count(p)) place(p, 0);
  }
  for (size_t k = 0; k < spread.size(); ++k) place(spread[k], k * n / spread.size());
  for (const auto& [path, node] : merged.nodes) {
    if (node.type == Node::Type::kDir) mkdirs_like(merged, tmp + "/0", path);
  }
  if (::rename(tmp.c_str(), dir.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST) throw_sys("rename", tmp);
  return stack;
}

PreparedImage prepare_image(const std::string& path, const std::vector<std::string>& command, Relayer relayer,
                            bool mountable) {
  // Fail early without root: unpacking needs it as much as mounting does.
  if (mountable && ::geteuid() != 0) {
    throw UserError("--image needs root: the image's layers are mounted with overlayfs in a private mount namespace");
  }
  PreparedImage p{open_image(path), {}, {}, {}, {}, {}, nullptr};
  p.layers = unpack_layers(p.image);
  for (const auto& l : p.layers) p.stack.push_back(l.dir);
  p.tree = merge_layers(p.stack);
  p.run = make_run_config(p.image.config, p.tree, command);
  p.program_files.push_back(p.run.argv[0]);
  if (auto real = p.tree.resolve(p.run.argv[0]); real && *real != p.run.argv[0]) p.program_files.push_back(*real);
  for (auto& lib : image_libraries(p.tree, p.run.argv[0])) p.program_files.push_back(std::move(lib));
  if (relayer.layers > 0) {
    p.stack = relayer_stack(p.image, p.tree, relayer, relayer.top ? p.program_files : std::vector<std::string>{});
    p.tree = merge_layers(p.stack);
  }
  if (mountable) p.rootfs = std::make_shared<RootfsPlan>(p.stack, p.run.working_dir, p.run.uid, p.run.gid);
  return p;
}

}  // namespace coldstart::image
