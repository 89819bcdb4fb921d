// `coldstart prewarm record --image IMAGE [-- COMMAND]`: which part of an
// image its start reads (the Slacker question, for this image on this node).
//
// Flow: prepare the image (layers unpacked, RootfsPlan); evict every visible
// file of its layers; launch it through the launcher until ready; read the
// pages in the tree's page tables (pagecache::touched_files: what the start
// faulted) and map the paths the processes see (inside the image) to the
// layer files that hold them; files read with read(2) count by residency.
// The manifest names the layer files, so `prewarm apply` loads exactly them
// before a `bench --image --prewarm`. The output gives the share of the
// image's bytes that the start touched, and the share resident after it
// (what the disk read, readahead included).
#include <cstdio>

#include <fmt/format.h>

#include "cli/prewarm_record.h"
#include "core/error.h"
#include "core/strings.h"
#include "image/prepare.h"
#include "launch/launcher.h"
#include "pagecache/evict.h"
#include "pagecache/manifest.h"
#include "pagecache/record.h"
#include "pagecache/residency.h"

namespace coldstart::cli {

int record_image(const std::string& image_path, const std::vector<std::string>& command, const LaunchFlags& flags,
                 const std::string& output) {
  image::PreparedImage img = image::prepare_image(image_path, command, image::Relayer{}, /*mountable=*/true);
  const std::vector<std::string> files = img.host_files();
  const uint64_t image_bytes = img.tree.total_bytes();

  // 1. Evict the image's files, so that what is resident after the start is what it read.
  pagecache::EvictReport evicted = pagecache::evict_files(files);
  for (const auto& e : evicted.files)
    if (!e.ok()) prewarm_warning(e.error);

  // 2. Launch inside the image until ready.
  launch::LaunchOptions o;
  o.argv = img.run.argv;
  o.ready = launch::ReadySpec::parse("exit");
  apply_launch_flags(flags, o);  // the image's Env first, the user's --env over it
  o.env.insert(o.env.begin(), img.run.env.begin(), img.run.env.end());
  o.clear_env = true;
  o.rootfs = img.rootfs;
  o.output = launch::OutputMode::kCapture;
  launch::Launch l(o);
  const launch::RunRecord& r = l.wait_ready();
  if (!r.ready) throw UserError("the recording launch did not become ready: " + r.failure);

  // 3. Touched pages, with the image's paths turned into layer files.
  std::vector<pid_t> pids = l.tree_pids();
  pagecache::Recording rec;
  std::vector<std::string> cmd = {"image " + image_path};
  cmd.insert(cmd.end(), img.run.argv.begin(), img.run.argv.end());
  if (!pids.empty()) {
    auto touched = pagecache::touched_files(pids);
    if (!touched) throw UserError("reading the started tree: " + touched.error());
    pagecache::TouchedFiles host;
    auto to_host = [&](const std::string& p) {
      std::string h = img.tree.host_path(p);
      return h.empty() ? std::string() : h;
    };
    for (auto& [path, ranges] : touched->mapped) {
      if (std::string h = to_host(path); !h.empty()) host.mapped[h] = ranges;
    }
    for (const auto& path : touched->open_files) {
      if (std::string h = to_host(path); !h.empty()) host.open_files.insert(h);
    }
    rec = pagecache::record_from_touched(host, cmd);
  } else {
    prewarm_warning("the tree had exited at the ready instant: recording by residency (over-records the readahead)");
    rec = pagecache::record_from_residency(files, cmd);
  }
  uint64_t resident = 0;
  for (const auto& f : files) {
    if (auto res = pagecache::residency(f)) resident += res->resident_pages * pagecache::page_size();
  }
  l.stop();
  for (const std::string& w : rec.warnings) prewarm_warning(w);

  pagecache::write_manifest(output, rec.manifest);
  const uint64_t touched_bytes = rec.manifest.total_bytes();
  std::printf("recorded %s pages (%s) of %zu files into %s (%s)\n", format_count(rec.manifest.total_pages()).c_str(),
              format_bytes(touched_bytes).c_str(), rec.manifest.files.size(), output.c_str(),
              rec.manifest.recorded_with.c_str());
  std::printf("image %s: %zu layers, %s in %zu visible files\n", image_path.c_str(), img.stack.size(),
              format_bytes(image_bytes).c_str(), files.size());
  std::printf("  the start touched %s of the image's bytes (%s); resident after it: %s (%s, readahead included)\n",
              format_percent(std::min(touched_bytes, image_bytes), image_bytes, "-").c_str(),
              format_bytes(touched_bytes).c_str(), format_percent(std::min(resident, image_bytes), image_bytes, "-").c_str(),
              format_bytes(resident).c_str());
  return kExitOk;
}

}  // namespace coldstart::cli
