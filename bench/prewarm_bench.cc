// prewarm_bench: time-to-ready of a service warm, cold, cold after
// `prewarm apply` (each load method) and cold after `vmtouch -t` of the same
// files, interleaved run by run so drift hits all alike; plus the bytes each
// approach brought into the page cache (residency delta, measured the same way
// for both) and how long the load took. One table per service, medians.
//
// usage: prewarm_bench COLDSTART RUNS SERVICE...
// Each SERVICE is recorded first with `COLDSTART prewarm record --ready notify`.
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "launch/launcher.h"
#include "pagecache/apply.h"
#include "pagecache/evict.h"
#include "pagecache/manifest.h"

extern char** environ;

namespace {

using namespace coldstart;
using namespace coldstart::pagecache;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t resident_pages(const std::vector<std::string>& files) {
  uint64_t n = 0;
  for (const auto& f : files)
    if (auto r = residency(f)) n += r->resident_pages;
  return n;
}

/// Runs argv (no shell) and returns its wall time in seconds.
double run_timed(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int64_t t0 = monotonic_ns();
  pid_t pid;
  if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) {
    std::fprintf(stderr, "cannot run %s\n", args[0]);
    std::exit(2);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return ns_to_s(monotonic_ns() - t0);
}

struct Samples {
  std::vector<double> ready, load_s, load_bytes;
};

void bench_service(const std::string& coldstart, const std::string& service, unsigned runs) {
  std::string manifest_path = "/tmp/prewarm_bench." + std::to_string(getpid()) + ".json";
  std::string record =
      fmt::format("ADDR=127.0.0.1:0 '{}' prewarm record --ready notify -o '{}' -- '{}' >/dev/null", coldstart,
                  manifest_path, service);
  if (std::system(record.c_str()) != 0) {
    std::fprintf(stderr, "recording %s failed\n", service.c_str());
    std::exit(2);
  }
  Manifest m = read_manifest(manifest_path);
  unlink(manifest_path.c_str());
  std::vector<std::string> files;
  uint64_t file_bytes = 0;
  for (const auto& f : m.files) files.push_back(f.path), file_bytes += f.identity.size;

  launch::LaunchOptions opts;
  opts.argv = {service};
  opts.env = {"ADDR=127.0.0.1:0"};
  opts.ready = launch::ReadySpec::parse("notify");
  opts.output = launch::OutputMode::kDiscard;

  const std::vector<std::string> modes = {"vmtouch -t",     "warm",           "cold",
                                          "apply populate", "apply willneed", "apply read"};
  std::map<std::string, Samples> s;
  const uint64_t page = page_size();
  for (unsigned r = 0; r < runs + 1; ++r) {  // run 0 is a warm-up, not counted
    for (const std::string& mode : modes) {
      double load_s = 0, load_bytes = 0;
      if (mode != "warm") evict_files(files);
      if (mode.starts_with("apply") || mode == "vmtouch -t") {
        uint64_t before = resident_pages(files);
        if (mode == "vmtouch -t") {
          std::vector<std::string> argv = {"/usr/bin/vmtouch", "-tq"};
          argv.insert(argv.end(), files.begin(), files.end());
          load_s = run_timed(argv);
        } else {
          ApplyOptions ao;
          ao.method = *parse_load_method(mode.substr(6));
          int64_t t0 = monotonic_ns();
          apply_manifest(m, ao);
          load_s = ns_to_s(monotonic_ns() - t0);
        }
        load_bytes = static_cast<double>((resident_pages(files) - before) * page);
      }
      launch::RunRecord rec = launch::launch_once(opts);
      if (!rec.ready) {
        std::fprintf(stderr, "%s: not ready: %s\n", service.c_str(), rec.failure.c_str());
        std::exit(2);
      }
      if (r == 0) continue;
      s[mode].ready.push_back(to_seconds(rec.time_to_ready));
      s[mode].load_s.push_back(load_s);
      s[mode].load_bytes.push_back(load_bytes);
    }
  }
  double warm = median(s["warm"].ready);
  std::printf("\n%s (%zu files, %s; manifest %s in %s pages, recorded %s)\n", service.c_str(), files.size(),
              fmt::format("{:.1f} MiB", file_bytes / 1048576.0).c_str(),
              fmt::format("{:.1f} MiB", m.total_bytes() / 1048576.0).c_str(),
              std::to_string(m.total_pages()).c_str(), m.recorded_with.c_str());
  std::printf("%-26s %14s %10s %14s %12s\n", "start", "median ready", "vs warm", "bytes loaded", "load time");
  for (const std::string& mode :
       {std::string("warm"), std::string("cold"), std::string("apply populate"),
        std::string("apply willneed"), std::string("apply read"), std::string("vmtouch -t")}) {
    const Samples& x = s[mode];
    bool loads = mode.starts_with("apply") || mode == "vmtouch -t";
    std::printf("%-26s %11.3f ms %9.2fx %14s %12s\n",
                (mode == "warm" || mode == "cold" ? mode : "cold after " + mode).c_str(),
                median(x.ready) * 1e3, median(x.ready) / warm,
                loads ? fmt::format("{:.2f} MiB", median(x.load_bytes) / 1048576.0).c_str() : "-",
                loads ? fmt::format("{:.3f} ms", median(x.load_s) * 1e3).c_str() : "-");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: prewarm_bench COLDSTART RUNS SERVICE...\n");
    return 2;
  }
  unsigned runs = static_cast<unsigned>(std::atoi(argv[2]));
  std::printf(
      "medians of %u interleaved runs each; cold = binary and libraries evicted (pages mapped by other "
      "processes, e.g. libc, stay)\n",
      runs);
  try {
    for (int i = 3; i < argc; ++i) bench_service(argv[1], argv[i], runs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prewarm_bench: %s\n", e.what());
    return 2;
  }
  return 0;
}
