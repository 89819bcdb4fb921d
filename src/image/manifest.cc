// Parsing the image's JSON documents with nlohmann-json, checking every field
// we use for its type: a missing or mistyped field is a UserError naming the
// document and the field, never an exception from the JSON library.
#include "image/manifest.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "image/digest.h"

namespace coldstart::image {
namespace {

using nlohmann::json;

json parse(std::string_view text, std::string_view where) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw UserError(std::string(where) + ": not valid JSON");
  return j;
}

[[noreturn]] void bad(std::string_view where, std::string_view what) {
  throw UserError(std::string(where) + ": " + std::string(what));
}

std::string string_field(const json& o, const char* key, std::string_view where, bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) {
    if (required) bad(where, std::string("missing \"") + key + "\"");
    return {};
  }
  if (!it->is_string()) bad(where, std::string("\"") + key + "\" is not a string");
  return it->get<std::string>();
}

std::vector<std::string> string_list(const json& o, const char* key, std::string_view where) {
  std::vector<std::string> out;
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return out;
  if (!it->is_array()) bad(where, std::string("\"") + key + "\" is not a list");
  for (const auto& e : *it) {
    if (!e.is_string()) bad(where, std::string("\"") + key + "\" has a non-string entry");
    out.push_back(e.get<std::string>());
  }
  return out;
}

Descriptor descriptor(const json& o, std::string_view where) {
  if (!o.is_object()) bad(where, "a descriptor is not an object");
  Descriptor d;
  d.media_type = string_field(o, "mediaType", where, false);
  d.digest = string_field(o, "digest", where, true);
  if (!valid_digest(d.digest)) bad(where, "unsupported digest '" + d.digest.substr(0, 80) + "' (want sha256:<64 hex>)");
  auto size = o.find("size");
  if (size == o.end() || !size->is_number_unsigned()) bad(where, "descriptor " + d.digest + " has no size");
  d.size = size->get<uint64_t>();
  auto platform = o.find("platform");
  if (platform != o.end() && platform->is_object()) {
    d.os = string_field(*platform, "os", where, false);
    d.architecture = string_field(*platform, "architecture", where, false);
    d.variant = string_field(*platform, "variant", where, false);
  }
  return d;
}

}  // namespace

Descriptor pick_manifest(std::string_view text, std::string_view where) {
  json j = parse(text, where);
  if (!j.is_object()) bad(where, "not a JSON object");
  auto m = j.find("manifests");
  if (m == j.end() || !m->is_array() || m->empty()) bad(where, "no \"manifests\"");
  std::vector<Descriptor> all;
  for (const auto& e : *m) all.push_back(descriptor(e, where));
  for (const auto& d : all) {
    if (d.os == "linux" && d.architecture == "amd64") return d;
  }
  if (all.size() == 1 && all[0].os.empty() && all[0].architecture.empty()) return all[0];
  std::string platforms;
  for (const auto& d : all) platforms += (platforms.empty() ? "" : ", ") + (d.os.empty() ? "?" : d.os) + "/" +
                                         (d.architecture.empty() ? "?" : d.architecture);
  bad(where, "no linux/amd64 image (it has: " + platforms + ")");
}

OciManifest parse_oci_manifest(std::string_view text, std::string_view where) {
  json j = parse(text, where);
  if (!j.is_object()) bad(where, "not a JSON object");
  auto c = j.find("config");
  if (c == j.end()) bad(where, "missing \"config\"");
  OciManifest m;
  m.config = descriptor(*c, where);
  auto l = j.find("layers");
  if (l == j.end() || !l->is_array()) bad(where, "missing \"layers\"");
  for (const auto& e : *l) {
    Descriptor d = descriptor(e, where);
    if (!layer_media_type_known(d.media_type)) bad(where, "layer " + d.digest + " has unsupported media type '" + d.media_type + "'");
    m.layers.push_back(std::move(d));
  }
  return m;
}

ImageConfig parse_config(std::string_view text, std::string_view where) {
  json j = parse(text, where);
  if (!j.is_object()) bad(where, "not a JSON object");
  ImageConfig c;
  c.architecture = string_field(j, "architecture", where, false);
  c.os = string_field(j, "os", where, false);
  auto cfg = j.find("config");
  if (cfg != j.end() && !cfg->is_null()) {
    if (!cfg->is_object()) bad(where, "\"config\" is not an object");
    c.env = string_list(*cfg, "Env", where);
    c.entrypoint = string_list(*cfg, "Entrypoint", where);
    c.cmd = string_list(*cfg, "Cmd", where);
    c.working_dir = string_field(*cfg, "WorkingDir", where, false);
    c.user = string_field(*cfg, "User", where, false);
  }
  auto rootfs = j.find("rootfs");
  if (rootfs != j.end() && rootfs->is_object()) c.diff_ids = string_list(*rootfs, "diff_ids", where);
  for (const auto& d : c.diff_ids) {
    if (!valid_digest(d)) bad(where, "unsupported diff_id '" + d.substr(0, 80) + "'");
  }
  return c;
}

DockerManifest parse_docker_manifest(std::string_view text, std::string_view where) {
  json j = parse(text, where);
  if (!j.is_array() || j.empty() || !j[0].is_object()) bad(where, "not a list of images");
  DockerManifest m;
  m.config = string_field(j[0], "Config", where, true);
  m.layers = string_list(j[0], "Layers", where);
  return m;
}

bool layer_media_type_known(std::string_view t) {
  return t.empty() || t == "application/vnd.oci.image.layer.v1.tar" ||
         t == "application/vnd.oci.image.layer.v1.tar+gzip" || t == "application/vnd.oci.image.layer.v1.tar+zstd" ||
         t == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
         t == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" ||
         t == "application/vnd.docker.image.rootfs.diff.tar";
}

}  // namespace coldstart::image
