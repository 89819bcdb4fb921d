#include "image/inspect.h"

#include "image/prepare.h"

namespace coldstart::image {

ImageReport inspect_image(const std::string& path) {
  PreparedImage p = prepare_image(path, {}, Relayer{}, /*mountable=*/false);
  ImageReport r;
  r.path = path;
  r.format = p.image.format;
  r.manifest_digest = p.image.manifest_digest;
  r.layers = p.image.layers;
  for (const auto& l : p.layers) r.stats.push_back(l.stats);
  r.argv = p.run.argv;
  for (const auto& f : p.program_files) {
    NeededFile n;
    n.path = f;
    auto it = p.tree.nodes.find(f);
    if (it != p.tree.nodes.end()) {
      n.layer = it->second.layer;
      n.bytes = it->second.size;
    }
    r.program.push_back(std::move(n));
  }
  for (const auto& [path_in, node] : p.tree.nodes) r.visible_files += node.type == Node::Type::kFile ? 1 : 0;
  r.visible_bytes = p.tree.total_bytes();
  return r;
}

}  // namespace coldstart::image
