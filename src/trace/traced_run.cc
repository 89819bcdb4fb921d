#include "trace/traced_run.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "core/error.h"
#include "core/clock.h"

namespace coldstart::trace {
namespace {

int run_hook(void* tracer) { return static_cast<Tracer*>(tracer)->child_pre_exec(); }

}  // namespace

std::unique_ptr<Tracer> choose_backend(const std::string& name, const TraceTarget& target, Detail detail) {
  if (name != "auto" && name != "bpf" && name != "ptrace")
    throw UserError("--backend: expected auto, bpf or ptrace, got '" + name + "'");
  if (name != "ptrace") {
    auto bpf = make_bpf_tracer(detail);
    try {
      bpf->prepare(target);
      return bpf;
    } catch (const BackendUnavailable& e) {
      if (name == "bpf") throw UserError(std::string("bpf backend unavailable: ") + e.what());
      std::fprintf(stderr, "coldstart: note: bpf backend unavailable (%s); using ptrace\n", e.what());
    }
  }
  auto ptrace = make_ptrace_tracer(detail);
  try {
    ptrace->prepare(target);
  } catch (const BackendUnavailable& e) {
    throw UserError(std::string("ptrace backend unavailable: ") + e.what());
  }
  return ptrace;
}

TracedRun traced_run(Tracer& tracer, launch::LaunchOptions options) {
  options.paused = true;
  options.unpause_at_spawn = [&tracer](uint64_t cgroup_id) { return tracer.follow_from_spawn(cgroup_id); };
  options.child_hook = run_hook;
  options.child_hook_arg = &tracer;
  launch::Launch l(options);
  try {
    tracer.follow(l.pid(), l.cgroup_id());
  } catch (const BackendUnavailable& e) {
    throw UserError(std::string(tracer.backend()) + " backend: " + e.what());
  }
  l.resume();  // nothing to do when followed from the spawn
  TracedRun run;
  run.at_ready = l.wait_ready();
  const launch::RunRecord& r = run.at_ready;
  int64_t end = r.ready ? r.ready_ns : monotonic_ns();
  run.log = tracer.finish(l.t0_ns(), end, r.ready ? std::optional<int64_t>(r.ready_ns) : std::nullopt,
                          r.ready ? "ready" : r.failure);
  // The ptrace backend services its tracees until the tree is gone.
  run.stopped = l.stop();
  return run;
}

std::vector<std::string> files_opened(const TraceLog& log, const std::string& cwd) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const Syscall& s : log.syscalls) {
    if (s.ret < 0 || s.path.empty()) continue;
    if (s.nr != SYS_open && s.nr != SYS_openat && s.nr != SYS_openat2) continue;
    // A relative path names a file in the cwd only for open() and AT_FDCWD.
    if (s.path[0] != '/' && s.nr != SYS_open && static_cast<int>(s.arg0) != AT_FDCWD) continue;
    std::string path = s.path[0] == '/' ? s.path : cwd + "/" + s.path;
    // One name per file, as /proc/PID/maps gives it (/lib -> /usr/lib on merged-/usr systems).
    char real[PATH_MAX];
    if (::realpath(path.c_str(), real) == nullptr) continue;
    path = real;
    // Kernel pseudo files (/proc, /sys) look regular but have no page cache to speak of.
    if (path.starts_with("/proc/") || path.starts_with("/sys/")) continue;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) continue;
    if (seen.insert(path).second) out.push_back(path);
  }
  return out;
}

}  // namespace coldstart::trace
