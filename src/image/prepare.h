// From an image path to everything a launch inside it needs: opened, layers
// unpacked (once), optionally re-split into N layers, merged view, run config
// and the RootfsPlan the launcher applies in the child.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/rootfs.h"
#include "image/tree.h"

namespace coldstart::image {

/// `--relayer N` / `--relayer N:top`: the image's files re-split into N layers.
struct Relayer {
  size_t layers = 0;  ///< 0: the image's own layers
  bool top = false;   ///< the program and its libraries in the lowest layer
  /// "8", "64:top"; N from 1 to 500 (overlayfs's limit). Throws UserError.
  static Relayer parse(const std::string& text);
  std::string text() const;
};

/// PreparedImage is one image made ready to be launched again and again; built
/// by prepare_image(), then read by bench/trace/prewarm and the launcher.
struct PreparedImage {
  Image image;
  std::vector<UnpackedLayer> layers;     ///< the image's own, bottom first
  std::vector<std::string> stack;        ///< the directories mounted, bottom first
  Tree tree;                             ///< the merged view of `stack`
  RunConfig run;
  std::vector<std::string> program_files;  ///< image paths: the program, its interpreter and libraries
  std::shared_ptr<RootfsPlan> rootfs;    ///< null unless asked for
  /// Host paths of every visible regular file (what --cold evicts).
  std::vector<std::string> host_files() const;
};

/// Opens `path`, unpacks its layers, applies `relayer`, resolves the run
/// config for `command` (empty: Entrypoint + Cmd). With `mountable`, checks
/// root and overlayfs and makes the RootfsPlan. Throws UserError.
PreparedImage prepare_image(const std::string& path, const std::vector<std::string>& command, Relayer relayer,
                            bool mountable);

/// Image paths of the interpreter and libraries `program` (an image path)
/// loads, found in the image the way ld.so would (standard directories,
/// RUNPATH), plus symlink targets. Static programs: none.
std::vector<std::string> image_libraries(const Tree& tree, const std::string& program);

/// The re-split stack's directories (bottom first), built once in
/// <cache>/relayer/<manifest hex>-<N>[-top]/ from hard links to the merged
/// files. `pinned`: image paths put in layer 0 (the lowest) for :top.
std::vector<std::string> relayer_stack(const Image& image, const Tree& merged, Relayer relayer,
                                       const std::vector<std::string>& pinned);

}  // namespace coldstart::image
