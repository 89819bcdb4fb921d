// `coldstart inspect IMAGE`: the layer table, the entrypoint and the layer
// holding each file its start needs (printers of image::ImageReport).
#include "cli/inspect_image.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace coldstart::cli {

nlohmann::ordered_json image_report_json(const image::ImageReport& r) {
  using json = nlohmann::ordered_json;
  json layers = json::array();
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const auto& s = r.stats[i];
    layers.push_back({{"digest", r.layers[i].digest}, {"media_type", r.layers[i].media_type},
                      {"compressed_bytes", r.layers[i].compressed_size}, {"unpacked_bytes", s.unpacked_bytes},
                      {"files", s.files}, {"dirs", s.dirs}, {"symlinks", s.symlinks}, {"hardlinks", s.hardlinks},
                      {"whiteouts", s.whiteouts}, {"opaque_dirs", s.opaque_dirs}});
  }
  json needed = json::array();
  for (const auto& n : r.program) needed.push_back({{"path", n.path}, {"layer", n.layer}, {"bytes", n.bytes}});
  return {{"image", r.path},          {"format", r.format},   {"manifest_digest", r.manifest_digest},
          {"layers", layers},         {"entrypoint", r.argv}, {"needed_files", needed},
          {"visible_files", r.visible_files}, {"visible_bytes", r.visible_bytes}};
}

std::string image_report_text(const image::ImageReport& r) {
  std::string out = fmt::format("{}: {} image, manifest {}\n", r.path, r.format, r.manifest_digest);
  out += fmt::format("  {} layers (bottom first):\n", r.layers.size());
  out += fmt::format("    {:>3}  {:<19}  {:>10}  {:>10}  {:>6}  {:>9}\n", "#", "digest", "compressed", "unpacked", "files",
                     "whiteouts");
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const auto& s = r.stats[i];
    out += fmt::format("    {:>3}  {:<19}  {:>10}  {:>10}  {:>6}  {:>9}\n", i, r.layers[i].digest.substr(0, 19),
                       r.layers[i].compressed_size ? format_bytes(r.layers[i].compressed_size) : "-",
                       format_bytes(s.unpacked_bytes), s.files, s.whiteouts + s.opaque_dirs);
  }
  out += fmt::format("  visible: {} files, {}\n", r.visible_files, format_bytes(r.visible_bytes));
  out += "  entrypoint: " + join(r.argv, " ") + "\n";
  uint64_t needed = 0;
  for (const auto& n : r.program) {
    out += fmt::format("    {} ({}) in layer {}\n", n.path, format_bytes(n.bytes), n.layer);
    needed += n.bytes;
  }
  if (r.visible_bytes > 0) {
    out += fmt::format("  the program and its libraries are {} of the image's bytes\n",
                       format_percent(needed, r.visible_bytes, "-"));
  }
  return out;
}

}  // namespace coldstart::cli
