// An image as coldstart uses it: its layers (bottom first), its run config,
// and an unpacked, content-addressed copy of each layer on disk.
//
// Typical use:
//   Image img = open_image("app.oci.tar");       // index/manifest/config read, checked
//   std::vector<UnpackedLayer> l = unpack_layers(img);   // once per layer, cached
//   Tree t = merge_layers(l);                      // the merged view (whiteouts applied)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image/manifest.h"
#include "image/source.h"

namespace coldstart::image {

/// One layer of an image, as its manifest names it.
struct Layer {
  std::string digest;          ///< the cache key, and what the content must hash to
  std::string blob;            ///< its file inside the source
  std::string media_type;
  uint64_t compressed_size = 0;
  bool digest_is_uncompressed = false;  ///< docker-archive: the digest is the diff_id
};

/// Image is one opened image: where it came from, the manifest's digest, the
/// config and the layers bottom first. Built by open_image(), then read.
struct Image {
  ImageSource source;
  std::string format;           ///< "oci-layout", "oci-archive", "docker-archive"
  std::string manifest_digest;  ///< OCI: the manifest's; docker: the config's
  ImageConfig config;
  std::vector<Layer> layers;
};

/// Opens and checks an image (any of the three forms). Bad JSON, a missing
/// blob, a manifest or config whose digest does not match: UserError.
Image open_image(const std::string& path);

/// Whether `path` looks like an image (an OCI layout directory or an archive
/// with index.json/manifest.json) rather than, say, an ELF file. Cheap for
/// directories and ELF files; reads an archive's listing otherwise.
bool looks_like_image(const std::string& path);

/// What one unpacked layer holds.
struct LayerStats {
  uint64_t files = 0, dirs = 0, symlinks = 0, hardlinks = 0, whiteouts = 0, opaque_dirs = 0;
  uint64_t unpacked_bytes = 0;  ///< sum of regular file sizes (each inode once)
};

/// A layer unpacked in the cache, in the form overlayfs takes as a lower
/// directory: whiteouts are 0/0 character devices, opaque directories carry
/// trusted.overlay.opaque=y.
struct UnpackedLayer {
  std::string digest;
  std::string dir;
  LayerStats stats;
  bool unpacked_now = false;  ///< false when it came from the cache
};

/// $XDG_CACHE_HOME/coldstart (default ~/.cache/coldstart).
std::string cache_root();

/// Unpacks every layer not yet in the cache (<cache>/layers/sha256/<hex>),
/// checking its digest while copying it out. A mismatch is a UserError and
/// leaves nothing in the cache. Requires: root for ownership, devices and
/// trusted.* xattrs (the caller checks).
std::vector<UnpackedLayer> unpack_layers(const Image& image);

}  // namespace coldstart::image
