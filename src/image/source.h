// Where an image's files come from: an OCI layout directory, or a tar archive
// (oci-archive or docker-archive, possibly compressed) read with libarchive.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace coldstart::image {

/// ImageSource names the files of one image source by their path inside it
/// ("index.json", "blobs/sha256/<hex>", "<hex>.tar") and reads them. An
/// archive is read sequentially, once per file asked for; open() lists it.
class ImageSource {
 public:
  enum class Kind { kOciLayout, kOciArchive, kDockerArchive };

  /// Opens a directory with an oci-layout file, or an archive holding
  /// index.json (OCI) or manifest.json (docker). Throws UserError otherwise.
  static ImageSource open(const std::string& path);

  Kind kind() const { return kind_; }
  const std::string& path() const { return path_; }
  bool has(const std::string& name) const;
  /// The file's bytes (at most `max`: a bigger one is a UserError).
  std::string read(const std::string& name, uint64_t max = 64 << 20) const;
  /// Streams the file to `fd`; returns the sha256 digest of its bytes.
  std::string copy_to(const std::string& name, int fd) const;

 private:
  std::string path_;
  Kind kind_ = Kind::kOciLayout;
  bool archive_ = false;
  std::map<std::string, uint64_t> entries_;  // archive: regular files and their sizes
};

/// "blobs/sha256/<hex>" for a digest.
std::string blob_path(const std::string& digest);
/// A path inside an archive as we compare them: no "./" prefix, no leading
/// '/', no ".." component (nullopt-like empty result for those).
std::string normalize_entry_name(std::string name);

}  // namespace coldstart::image
