// Launch overhead: how much does `coldstart bench --ready exit` add to the
// floor of spawning a program? In one run, on the static musl no-op:
//   1. a bare posix_spawn + waitpid loop (the floor; timed here, in process),
//   2. `coldstart bench --ready exit` (its own per-run JSON times),
//   3. `hyperfine -N` (its JSON times), for reference,
// in alternating rounds so drift hits all three, then a table of medians and
// ratios to the bare loop. Target: coldstart within 1.3x of the bare loop.
//
// usage: bench_launch_overhead COLDSTART NOOP [RUNS_PER_ROUND] [ROUNDS]
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace {

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<double> bare_loop(const std::string& noop, int runs) {
  std::vector<double> times;
  char* argv[] = {const_cast<char*>(noop.c_str()), nullptr};
  for (int i = 0; i < runs; ++i) {
    double t0 = now_s();
    pid_t pid;
    if (posix_spawn(&pid, noop.c_str(), nullptr, nullptr, argv, environ) != 0) std::exit(2);
    int status;
    waitpid(pid, &status, 0);
    times.push_back(now_s() - t0);
  }
  return times;
}

// Runs a shell command that writes hyperfine-schema JSON to `json`; returns results[0].times.
std::vector<double> json_times(const std::string& command, const std::string& json) {
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "failed: %s\n", command.c_str());
    std::exit(2);
  }
  std::ifstream f(json);
  std::stringstream ss;
  ss << f.rdbuf();
  std::vector<double> out;
  const nlohmann::json doc = nlohmann::json::parse(ss.str());
  for (const auto& t : doc["results"][0]["times"]) out.push_back(t.get<double>());
  std::remove(json.c_str());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s COLDSTART NOOP [RUNS_PER_ROUND] [ROUNDS]\n", argv[0]);
    return 2;
  }
  std::string coldstart = argv[1], noop = argv[2];
  int runs = argc > 3 ? std::atoi(argv[3]) : 200;
  int rounds = argc > 4 ? std::atoi(argv[4]) : 3;
  std::string json = "/tmp/coldstart-bench-overhead-" + std::to_string(getpid()) + ".json";
  // On a shared machine other programs' load delays every wake-up by whole
  // scheduler slices; SCHED_FIFO (inherited by every child, so all three
  // methods alike) keeps that out of the figures when we may use it.
  sched_param sp{};
  sp.sched_priority = 10;
  bool fifo = std::getenv("NO_FIFO") == nullptr && sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
  std::printf("scheduling: %s\n", fifo ? "SCHED_FIFO 10 for all three methods (set NO_FIFO=1 to turn off)"
                                         : "normal (SCHED_FIFO not permitted or NO_FIFO set)");
  bool have_hyperfine = std::system("command -v hyperfine >/dev/null 2>&1") == 0;
  std::vector<double> bare, ours, hyper;
  for (int r = 0; r < rounds; ++r) {
    auto b = bare_loop(noop, runs);
    bare.insert(bare.end(), b.begin(), b.end());
    auto c = json_times(coldstart + " bench --ready exit --warmup 5 --runs " + std::to_string(runs) +
                            " --export-json " + json + " " + noop + " >/dev/null",
                        json);
    ours.insert(ours.end(), c.begin(), c.end());
    if (have_hyperfine) {
      auto h = json_times("hyperfine -N --warmup 5 --runs " + std::to_string(runs) + " --export-json " + json + " " +
                              noop + " >/dev/null 2>&1",
                          json);
      hyper.insert(hyper.end(), h.begin(), h.end());
    }
  }
  double base = median(bare);
  std::printf("%-44s %8s %12s %10s\n", "method (static no-op, same run)", "runs", "median", "vs bare");
  auto row = [&](const char* name, const std::vector<double>& v) {
    std::printf("%-44s %8zu %9.1f µs %9.2fx\n", name, v.size(), median(v) * 1e6, median(v) / base);
  };
  row("posix_spawn + waitpid (bare loop)", bare);
  row("coldstart bench --ready exit", ours);
  if (have_hyperfine) row("hyperfine -N", hyper);
  else std::printf("hyperfine: not installed\n");
  return 0;
}
