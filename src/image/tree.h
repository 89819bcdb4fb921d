// The merged view of a layer stack, computed the way overlayfs presents it,
// without mounting anything (inspect, relayer and entrypoint lookup use it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace coldstart::image {

/// One visible file of the merged view.
struct Node {
  enum class Type { kFile, kDir, kSymlink, kOther };
  Type type = Type::kOther;
  int layer = 0;        ///< index into Tree::layer_dirs (0 = bottom) of the copy seen
  uint64_t size = 0;
  dev_t dev = 0;
  ino_t ino = 0;        ///< hard links within a layer share it
  std::string target;   ///< symlink target
};

/// Tree is what a lookup in the mounted stack would see: every path (absolute,
/// "/etc/passwd") that is visible, and in which layer its copy lives. Built by
/// merge_layers(); read-only afterwards.
struct Tree {
  std::vector<std::string> layer_dirs;  ///< bottom first
  std::map<std::string, Node> nodes;    ///< "/" is not listed

  /// The host path of a visible image path.
  std::string host_path(const std::string& path) const;
  /// Follows symlinks (relative and absolute, inside the image root, at most
  /// 40) in every component; the final path if it is visible.
  std::optional<std::string> resolve(const std::string& path) const;
  /// Looks `name` up like execvp over the image's PATH (from `env`, else the
  /// usual default); a name with '/' is resolved as given.
  std::optional<std::string> find_program(const std::string& name, const std::vector<std::string>& env) const;
  /// Bytes of every visible regular file, each inode once.
  uint64_t total_bytes() const;
};

/// Merges unpacked layer directories (bottom first): a higher layer's entry
/// hides a lower one's; a 0/0 character device (whiteout) removes the path
/// and everything under it; a directory with trusted.overlay.opaque=y hides
/// everything lower layers had under it.
Tree merge_layers(const std::vector<std::string>& layer_dirs);

/// rm -rf without following symlinks; silent when `path` does not exist.
void remove_tree(const std::string& path);

}  // namespace coldstart::image
