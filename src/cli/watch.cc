// coldstart watch: the node agent. Parses options, runs watch::run_watch and
// prints one JSON line per start record (to --events FILE or stdout); the
// attach notice and the closing summary go to stderr.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "core/strings.h"
#include "watch/agent.h"
#include "watch/record_json.h"

namespace coldstart::cli {
namespace {

struct WatchArgs {
  std::string listen = "127.0.0.1:9477";
  std::vector<std::string> match;
  std::string events;
  uint64_t count = 0;
  std::string duration;
  std::string start_timeout = "5min";
  size_t max_label_sets = 500;
  size_t max_phase_probes = 64;
  bool libc_probes = false;
  bool syscall_probes = false;
  std::vector<std::string> probe_exes;
};

double seconds_option(const std::string& flag, const std::string& text) {
  auto s = parse_duration(text);
  if (!s || *s <= 0) throw UserError(flag + " " + text + ": expected a duration such as 30s, 500ms or 5min");
  return *s;
}

int run_watch_command(const WatchArgs& a) {
  watch::WatchOptions o;
  o.listen = a.listen;
  o.match = a.match;
  if (a.count > 0) o.count = a.count;
  if (!a.duration.empty()) o.duration_s = seconds_option("--duration", a.duration);
  o.start_timeout_s = seconds_option("--start-timeout", a.start_timeout);
  o.max_label_sets = a.max_label_sets;
  o.max_phase_probes = a.max_phase_probes;
  o.libc_probes = a.libc_probes;
  o.syscall_probes = a.syscall_probes;
  o.probe_exes = a.probe_exes;

  std::FILE* out = stdout;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(nullptr, std::fclose);
  if (!a.events.empty() && a.events != "-") {
    file.reset(std::fopen(a.events.c_str(), "a"));
    if (!file) throw UserError("open " + a.events + ": " + std::strerror(errno));
    out = file.get();
  }
  int64_t offset = watch::realtime_offset_ns();
  auto attached = [](const std::string& endpoint) {
    std::fprintf(stderr, "coldstart: watch: attached, following service starts%s\n",
                 endpoint.empty() ? "" : ("; metrics at " + endpoint).c_str());
  };
  auto record = [out, offset](const watch::StartRecord& r) {
    std::string line = watch::record_json(r, offset).dump() + "\n";
    std::fwrite(line.data(), 1, line.size(), out);
    std::fflush(out);
  };
  watch::WatchSummary s = watch::run_watch(o, attached, record);
  uint64_t lost = s.losses.ring_buffer + s.losses.starts_map + s.losses.cgroup_map + s.losses.procs_map;
  std::fprintf(stderr, "coldstart: watch: %llu starts, %llu recorded, %llu failed, %llu lost\n",
               static_cast<unsigned long long>(s.starts), static_cast<unsigned long long>(s.records),
               static_cast<unsigned long long>(s.failed), static_cast<unsigned long long>(lost));
  return kExitOk;
}

}  // namespace

CommandRunner setup_watch(CLI::App& sub) {
  auto a = std::make_shared<WatchArgs>();
  sub.add_option("--listen", a->listen, "HOST:PORT of the Prometheus /metrics endpoint, or 'none'")
      ->capture_default_str();
  sub.add_option("--match", a->match,
                 "also a start: an exec whose path or command line matches this PCRE2 pattern (repeatable)");
  sub.add_option("--events", a->events, "append one JSON line per start to FILE (default: stdout)");
  sub.add_option("--count", a->count, "stop after N start records")->check(CLI::PositiveNumber);
  sub.add_option("--duration", a->duration, "stop after this long (e.g. 30s)");
  sub.add_option("--start-timeout", a->start_timeout,
                 "a start not served (no accepted connection) by then is recorded as 'timeout'")
      ->capture_default_str();
  sub.add_option("--max-label-sets", a->max_label_sets,
                 "distinct (service, kind) label sets kept; more are counted as service=\"_other\"")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--max-phase-probes", a->max_phase_probes,
                 "executables that get loader-done and main uprobes at once (least recently started "
                 "are detached; 0: none)")
      ->capture_default_str();
  sub.add_flag("--libc-probes", a->libc_probes,
               "also uprobes on the host libc's listen() and mount(): AF_UNIX LISTEN and overlay mounts "
               "(costs every exec of a program using that libc a few µs)");
  sub.add_option("--probe-exe", a->probe_exes,
                 "place the loader-done and main uprobes on this executable at start-up, so that its first "
                 "start is measured too (repeatable; counts toward --max-phase-probes)");
  sub.add_flag("--syscall-probes", a->syscall_probes,
               "also syscall tracepoints (listen, mount, fsopen, fsconfig): AF_UNIX LISTEN and overlay "
               "mounts of any program (Go, raw syscalls, the new mount API; costs every syscall of the node "
               "the tracepoint path)");
  return [a]() { return run_watch_command(*a); };
}

}  // namespace coldstart::cli
