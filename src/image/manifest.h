// The JSON documents of an image: OCI index, OCI manifest, image config and
// docker-archive's manifest.json. Parsers of untrusted bytes: every one
// returns data or throws UserError naming the document; none touches a file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coldstart::image {

inline constexpr std::string_view kMediaIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kMediaManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kMediaDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kMediaDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

/// An OCI content descriptor (what points at a blob).
struct Descriptor {
  std::string media_type;
  std::string digest;  ///< validated: "sha256:<64 hex>"
  uint64_t size = 0;
  std::string os, architecture, variant;  ///< platform, for index entries
  bool is_index() const { return media_type == kMediaIndex || media_type == kMediaDockerList; }
};

/// What the image config says about running it (the OCI "config" object).
struct ImageConfig {
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string user;
  std::vector<std::string> diff_ids;  ///< rootfs.diff_ids: digests of the uncompressed layers
  std::string architecture, os;
};

struct OciManifest {
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct DockerManifest {
  std::string config;               ///< the config's path inside the archive
  std::vector<std::string> layers;  ///< each layer's path inside the archive
};

/// The manifest an index names for linux/amd64 (an entry without a platform
/// counts when it is the only one). May itself be an index (nested).
Descriptor pick_manifest(std::string_view index_json, std::string_view where);
OciManifest parse_oci_manifest(std::string_view json, std::string_view where);
ImageConfig parse_config(std::string_view json, std::string_view where);
/// docker-archive's manifest.json: its first image.
DockerManifest parse_docker_manifest(std::string_view json, std::string_view where);

/// Whether a layer media type is gzip/zstd compressed or a plain tar (other
/// media types, e.g. foreign or encrypted layers, are a UserError).
bool layer_media_type_known(std::string_view media_type);

}  // namespace coldstart::image
