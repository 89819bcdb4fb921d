// inspect_bench COLDSTART [RUNS] [SIZE_MB]
//
// Shows that inspect maps and does not copy: generates a dynamically linked
// x86-64 binary of SIZE_MB (default 128) MB -- half a big initialised .data
// array, half a .debug_junk section -- and times, interleaved in one run:
//   * elf::inspect_binary() in this process (the library, no process start),
//   * `coldstart inspect --json`, `readelf -a` and `file` as processes,
// printing median wall time and median CPU time (user+sys from wait4, robust
// when the machine is loaded) with ratios to coldstart. The generated files
// are removed on exit, also when a step fails.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "quiet_child.h"
#include "elf/inspect.h"

namespace {

using coldstart::bench::median;
using coldstart::bench::Sample;

Sample run(const std::vector<std::string>& argv) {
  return coldstart::bench::run_quiet(argv, argv[0] + " failed");
}

Sample in_process(const std::string& path, const coldstart::elf::LoaderEnv& env) {
  rusage a{}, b{};
  getrusage(RUSAGE_SELF, &a);
  int64_t t0 = coldstart::monotonic_ns();
  auto report = coldstart::elf::inspect_binary(path, env);
  Sample s;
  s.wall = coldstart::ns_to_s(coldstart::monotonic_ns() - t0);
  getrusage(RUSAGE_SELF, &b);
  using coldstart::bench::timeval_s;
  s.cpu = timeval_s(b.ru_utime) - timeval_s(a.ru_utime) + timeval_s(b.ru_stime) - timeval_s(a.ru_stime);
  if (report.census.relocations.total() == 0) throw coldstart::UserError("inspect found no relocations");
  return s;
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
    std::fprintf(stderr, "usage: inspect_bench COLDSTART [RUNS] [SIZE_MB]\n");
    return 2;
  }
  std::string cs = argv[1];
  int runs = argc > 2 ? std::atoi(argv[2]) : 21;
  int size_mb = argc > 3 ? std::atoi(argv[3]) : 128;
  int half = size_mb / 2;
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/coldstart-bench-inspect-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return 2;
  ScratchDir dir{tmpl};
  std::string d = dir.path, big = d + "/big";
  try {
    FILE* f = std::fopen((d + "/big.c").c_str(), "w");
    if (f == nullptr) throw coldstart::UserError("cannot write " + d);
    std::fprintf(f,
                 "#include <stdio.h>\nchar big_data[%dUL << 20] = {1};\n"
                 "int main(int argc, char** argv) { (void)argv; printf(\"%%d\\n\", big_data[argc]); return 0; }\n",
                 half);
    std::fclose(f);
    run({"gcc", "-O1", "-o", d + "/big.nodebug", d + "/big.c"});
    run({"sh", "-c", "head -c " + std::to_string(half << 20) + " /dev/zero > '" + d + "/junk'"});
    run({"objcopy", "--add-section", ".debug_junk=" + d + "/junk", d + "/big.nodebug", big});
    std::filesystem::remove(d + "/junk");
    std::filesystem::remove(d + "/big.nodebug");

    auto env = coldstart::elf::LoaderEnv::from_process();
    struct Row {
      const char* name;
      std::vector<double> wall, cpu;
    };
    std::vector<Row> rows = {{"elf::inspect_binary (in process)", {}, {}},
                             {"coldstart inspect --json", {}, {}},
                             {"readelf -a", {}, {}},
                             {"file", {}, {}}};
    auto add = [](Row& r, Sample s) {
      r.wall.push_back(s.wall);
      r.cpu.push_back(s.cpu);
    };
    for (int i = 0; i < runs; ++i) {
      add(rows[0], in_process(big, env));
      add(rows[1], run({cs, "inspect", "--json", big}));
      add(rows[2], run({"readelf", "-a", big}));
      add(rows[3], run({"file", big}));
    }
    std::printf("binary: %ju bytes (%d MB .data + %d MB .debug_junk), %d interleaved runs, warm page cache\n",
                static_cast<uintmax_t>(std::filesystem::file_size(big)), half, half, runs);
    std::printf("%-34s %12s %8s %12s %8s\n", "", "median wall", "ratio", "median CPU", "ratio");
    double base_wall = median(rows[1].wall), base_cpu = median(rows[1].cpu);
    for (const auto& r : rows) {
      double w = median(r.wall), c = median(r.cpu);
      std::printf("%-34s %9.2f ms %7.2fx %9.2f ms %7.2fx\n", r.name, w * 1e3, w / base_wall, c * 1e3,
                  base_cpu > 0 ? c / base_cpu : 0.0);
    }
    std::printf("(ratios relative to `coldstart inspect --json`; CPU of processes from wait4, 1 ms resolution "
                "or coarser)\n");
  } catch (const coldstart::UserError& e) {
    std::fprintf(stderr, "inspect_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
