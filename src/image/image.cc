// Opening an image: find the manifest (OCI: index.json, descending nested
// indexes, picking linux/amd64; docker-archive: manifest.json's first image),
// read the config, and check the digest of every JSON blob we read against
// the descriptor that named it. Layers are only listed here; unpack.cc reads
// them.
#include "image/image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "image/digest.h"

namespace coldstart::image {
namespace {

std::string read_blob_checked(const ImageSource& src, const Descriptor& d, const std::string& what) {
  std::string bytes = src.read(blob_path(d.digest));
  std::string got = sha256_of(bytes);
  if (got != d.digest) {
    throw UserError(src.path() + ": " + what + " " + d.digest + " does not match its content (" + got + ")");
  }
  return bytes;
}

void open_oci(Image& img) {
  const ImageSource& src = img.source;
  Descriptor d = pick_manifest(src.read("index.json"), src.path() + ": index.json");
  for (int depth = 0; d.is_index(); ++depth) {
    if (depth > 4) throw UserError(src.path() + ": image indexes nested too deep");
    d = pick_manifest(read_blob_checked(src, d, "index"), src.path() + ": index " + d.digest);
  }
  img.manifest_digest = d.digest;
  OciManifest m = parse_oci_manifest(read_blob_checked(src, d, "manifest"), src.path() + ": manifest " + d.digest);
  img.config = parse_config(read_blob_checked(src, m.config, "config"), src.path() + ": config " + m.config.digest);
  for (const auto& l : m.layers) {
    Layer layer;
    layer.digest = l.digest;
    layer.blob = blob_path(l.digest);
    layer.media_type = l.media_type;
    layer.compressed_size = l.size;
    if (!src.has(layer.blob)) throw UserError(src.path() + ": missing layer blob " + l.digest);
    img.layers.push_back(std::move(layer));
  }
}

void open_docker(Image& img) {
  const ImageSource& src = img.source;
  DockerManifest m = parse_docker_manifest(src.read("manifest.json"), src.path() + ": manifest.json");
  std::string config_name = normalize_entry_name(m.config);
  if (config_name.empty()) throw UserError(src.path() + ": manifest.json: bad Config path '" + m.config + "'");
  std::string config = src.read(config_name);
  img.manifest_digest = sha256_of(config);
  img.config = parse_config(config, src.path() + ": " + config_name);
  if (img.config.diff_ids.size() != m.layers.size()) {
    throw UserError(src.path() + ": manifest.json lists " + std::to_string(m.layers.size()) + " layers, the config " +
                    std::to_string(img.config.diff_ids.size()) + " diff_ids");
  }
  for (size_t i = 0; i < m.layers.size(); ++i) {
    Layer layer;
    layer.blob = normalize_entry_name(m.layers[i]);
    if (layer.blob.empty()) throw UserError(src.path() + ": manifest.json: bad layer path '" + m.layers[i] + "'");
    if (!src.has(layer.blob)) throw UserError(src.path() + ": missing layer " + layer.blob);
    layer.digest = img.config.diff_ids[i];
    layer.digest_is_uncompressed = true;
    img.layers.push_back(std::move(layer));
  }
}

}  // namespace

Image open_image(const std::string& path) {
  Image img{ImageSource::open(path), {}, {}, {}, {}};
  switch (img.source.kind()) {
    case ImageSource::Kind::kOciLayout: img.format = "oci-layout"; open_oci(img); break;
    case ImageSource::Kind::kOciArchive: img.format = "oci-archive"; open_oci(img); break;
    case ImageSource::Kind::kDockerArchive: img.format = "docker-archive"; open_docker(img); break;
  }
  if (!img.config.os.empty() && img.config.os != "linux") throw UserError(path + ": the image is for " + img.config.os);
  if (!img.config.architecture.empty() && img.config.architecture != "amd64") {
    throw UserError(path + ": the image is for " + img.config.architecture + ", not amd64");
  }
  if (img.layers.empty()) throw UserError(path + ": the image has no layers");
  return img;
}

bool looks_like_image(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  if (S_ISDIR(st.st_mode)) return ::access((path + "/oci-layout").c_str(), F_OK) == 0;
  if (!S_ISREG(st.st_mode)) return false;
  char magic[4] = {};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::read(fd, magic, 4);
  ::close(fd);
  if (n == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F') return false;
  try {
    ImageSource::open(path);
    return true;
  } catch (const UserError&) {
    return false;
  }
}

}  // namespace coldstart::image
