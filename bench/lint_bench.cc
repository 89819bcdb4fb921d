// lint_bench COLDSTART [RUNS]
//
// Shows that `coldstart lint` is linear in its input: generates clean
// manifests of 1, 10 and 50 MiB -- half a ConfigMap holding a text blob,
// half Helm-style output (one "# Source:" Deployment document per ~500
// bytes, thousands of documents) -- and times `coldstart lint` on each as a
// process, RUNS times interleaved (default 5), printing the median wall and
// CPU time (user+sys from wait4, robust on a loaded machine), MiB per CPU
// second, and CPU per MiB relative to the 1 MiB input: linear growth keeps
// that ratio near 1 (the quadratic document split this replaced gave ~10 at
// 10 MiB). Every run must exit 0 (the inputs are clean). The generated files
// are removed on exit, also when a step fails.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "quiet_child.h"

namespace {

using coldstart::bench::median;
using coldstart::bench::Sample;

Sample run(const std::vector<std::string>& argv) {
  return coldstart::bench::run_quiet(argv, argv[0] + " " + argv[1] + " " + argv.back() + " did not exit 0");
}

/// A clean manifest of `mib` MiB: a ConfigMap blob, then Helm-style documents.
void generate(const std::string& path, size_t mib) {
  std::ofstream out(path, std::ios::binary);
  size_t size = 0, target = mib << 20;
  auto put = [&](const std::string& s) {
    out << s;
    size += s.size();
  };
  put("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: blob\ndata:\n  blob.txt: |\n");
  const std::string line = "    lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\n";
  while (size < target / 2) put(line);
  for (int i = 0; size < target; ++i) {
    put("---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-" +
        std::to_string(i) +
        "\n  labels: {app: web}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: web\n"
        "        image: nginx:1.25\n        ports: [{containerPort: 80}]\n"
        "        readinessProbe: {httpGet: {path: /, port: 80}}\n"
        "        resources: {requests: {cpu: 100m, memory: 64Mi}}\n");
  }
}

/// Removes the scratch directory whatever happens.
struct ScratchDir {
  std::string path;
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: lint_bench COLDSTART [RUNS]\n");
    return 2;
  }
  std::string cs = argv[1];
  int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/coldstart-bench-lint-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return 2;
  ScratchDir dir{tmpl};
  try {
    const size_t sizes[] = {1, 10, 50};
    struct Row {
      size_t mib;
      std::string path;
      std::vector<double> wall, cpu;
    };
    std::vector<Row> rows;
    for (size_t mib : sizes) {
      rows.push_back({mib, dir.path + "/manifest-" + std::to_string(mib) + "MiB.yaml", {}, {}});
      generate(rows.back().path, mib);
    }
    for (int i = 0; i < runs; ++i) {
      for (Row& r : rows) {
        Sample s = run({cs, "lint", r.path});
        r.wall.push_back(s.wall);
        r.cpu.push_back(s.cpu);
      }
    }
    std::printf("coldstart lint on clean manifests (half a ConfigMap blob, half Helm-style documents), %d "
                "interleaved runs, warm page cache\n",
                runs);
    std::printf("%8s %10s %13s %13s %10s %18s\n", "input", "documents", "median wall", "median CPU", "MiB/CPU-s",
                "CPU/MiB vs 1 MiB");
    double base = median(rows[0].cpu) / static_cast<double>(rows[0].mib);
    for (const Row& r : rows) {
      double w = median(r.wall), c = median(r.cpu);
      size_t docs = 0;
      std::ifstream in(r.path);
      for (std::string l; std::getline(in, l);) docs += l == "---";
      std::printf("%5zu MiB %10zu %10.3f s %10.3f s %10.1f %17.2fx\n", r.mib, docs + 1, w, c,
                  c > 0 ? static_cast<double>(r.mib) / c : 0.0,
                  base > 0 ? c / static_cast<double>(r.mib) / base : 0.0);
    }
  } catch (const coldstart::UserError& e) {
    std::fprintf(stderr, "lint_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
