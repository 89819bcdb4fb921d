// Merging layers: walk each layer directory (sorted, parents before children)
// from the bottom up, applying its entries to one map of visible paths, as
// overlayfs's lookup would resolve them (Documentation/filesystems/overlayfs:
// whiteouts are 0/0 character devices, opaque directories carry
// trusted.overlay.opaque=y).
#include "image/tree.h"

#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/strings.h"

namespace coldstart::image {
namespace {

void erase_under(std::map<std::string, Node>& nodes, const std::string& path) {
  const std::string prefix = path + "/";
  auto it = nodes.lower_bound(prefix);
  while (it != nodes.end() && it->first.starts_with(prefix)) it = nodes.erase(it);
}

bool is_opaque(const std::string& host) {
  char v[4] = {};
  ssize_t n = ::lgetxattr(host.c_str(), "trusted.overlay.opaque", v, sizeof v);
  return n == 1 && v[0] == 'y';
}

void walk(Tree& t, int layer, const std::string& host, const std::string& path) {
  DIR* d = ::opendir(host.c_str());
  if (d == nullptr) throw_sys("opendir", host);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    const std::string h = host + "/" + n;
    const std::string p = path + "/" + n;
    struct stat st {};
    if (::lstat(h.c_str(), &st) != 0) throw_sys("lstat", h);
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {  // whiteout
      t.nodes.erase(p);
      erase_under(t.nodes, p);
      continue;
    }
    auto old = t.nodes.find(p);
    bool was_dir = old != t.nodes.end() && old->second.type == Node::Type::kDir;
    Node node;
    node.layer = layer;
    node.dev = st.st_dev;
    node.ino = st.st_ino;
    if (S_ISDIR(st.st_mode)) {
      node.type = Node::Type::kDir;
      if (!was_dir || is_opaque(h)) erase_under(t.nodes, p);
      t.nodes[p] = node;
      walk(t, layer, h, p);
      continue;
    }
    if (was_dir) erase_under(t.nodes, p);
    if (S_ISREG(st.st_mode)) {
      node.type = Node::Type::kFile;
      node.size = static_cast<uint64_t>(st.st_size);
    } else if (S_ISLNK(st.st_mode)) {
      node.type = Node::Type::kSymlink;
      char buf[4096];
      ssize_t n2 = ::readlink(h.c_str(), buf, sizeof buf);
      if (n2 > 0) node.target.assign(buf, static_cast<size_t>(n2));
    }
    t.nodes[p] = node;
  }
}

int remove_entry(const char* path, const struct stat*, int type, FTW*) {
  if (type == FTW_DP || type == FTW_D) ::rmdir(path);
  else ::unlink(path);
  return 0;
}

}  // namespace

Tree merge_layers(const std::vector<std::string>& layer_dirs) {
  Tree t;
  t.layer_dirs = layer_dirs;
  for (size_t i = 0; i < layer_dirs.size(); ++i) walk(t, static_cast<int>(i), layer_dirs[i], "");
  return t;
}

std::string Tree::host_path(const std::string& path) const {
  auto it = nodes.find(path);
  if (it == nodes.end()) return {};
  return layer_dirs[static_cast<size_t>(it->second.layer)] + path;
}

std::optional<std::string> Tree::resolve(const std::string& path) const {
  std::vector<std::string> todo;  // components left, reversed
  for (auto part : split(path, '/')) {
    if (!part.empty() && part != ".") todo.insert(todo.begin(), std::string(part));
  }
  std::string cur;
  int hops = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.back());
    todo.pop_back();
    if (part == "..") {
      cur = cur.substr(0, cur.empty() ? 0 : cur.rfind('/'));
      continue;
    }
    std::string next = cur + "/" + part;
    auto it = nodes.find(next);
    if (it == nodes.end()) return std::nullopt;
    if (it->second.type != Node::Type::kSymlink) {
      cur = next;
      continue;
    }
    if (++hops > 40) return std::nullopt;
    const std::string& target = it->second.target;
    if (target.starts_with("/")) cur.clear();
    std::vector<std::string> parts;
    for (auto p : split(target, '/')) {
      if (!p.empty() && p != ".") parts.emplace_back(p);
    }
    for (auto r = parts.rbegin(); r != parts.rend(); ++r) todo.push_back(*r);
  }
  return cur.empty() ? std::string("/") : cur;
}

std::optional<std::string> Tree::find_program(const std::string& name, const std::vector<std::string>& env) const {
  auto runnable = [&](const std::string& p) -> std::optional<std::string> {
    auto r = resolve(p);
    if (!r) return std::nullopt;
    auto it = nodes.find(*r);
    if (it == nodes.end() || it->second.type != Node::Type::kFile) return std::nullopt;
    return p;
  };
  if (name.find('/') != std::string::npos) return runnable(name.starts_with("/") ? name : "/" + name);
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& kv : env) {
    if (kv.starts_with("PATH=")) path = kv.substr(5);
  }
  for (auto dir : split(path, ':')) {
    std::string d(dir);
    if (d.empty() || d.front() != '/') continue;
    if (auto p = runnable(d + "/" + name)) return p;
  }
  return std::nullopt;
}

uint64_t Tree::total_bytes() const {
  std::set<std::pair<dev_t, ino_t>> seen;
  uint64_t total = 0;
  for (const auto& [path, n] : nodes) {
    if (n.type == Node::Type::kFile && seen.emplace(n.dev, n.ino).second) total += n.size;
  }
  return total;
}

void remove_tree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) {
    ::unlink(path.c_str());
    return;
  }
  ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

}  // namespace coldstart::image
