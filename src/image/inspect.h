// What an image holds and what its start needs from it (`coldstart inspect IMAGE`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image/image.h"

namespace coldstart::image {

/// One file the start needs, and the layer (0 = bottom) whose copy is seen.
struct NeededFile {
  std::string path;
  int layer = -1;
  uint64_t bytes = 0;
};

/// ImageReport is the model `inspect` prints: built by inspect_image().
struct ImageReport {
  std::string path, format, manifest_digest;
  std::vector<Layer> layers;
  std::vector<LayerStats> stats;     ///< per layer, as unpacked
  std::vector<std::string> argv;     ///< Entrypoint + Cmd, argv[0] resolved in the image
  std::vector<NeededFile> program;   ///< argv[0], its interpreter and libraries
  uint64_t visible_files = 0;
  uint64_t visible_bytes = 0;        ///< the merged view's regular files, each inode once
};

/// Opens and unpacks (cached) the image and resolves its entrypoint.
ImageReport inspect_image(const std::string& path);

}  // namespace coldstart::image
