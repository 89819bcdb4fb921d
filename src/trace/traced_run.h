// One launch of a target under a tracer, through the shared launcher: the
// sequence every user of a tracer needs (cli/trace.cc, prewarm record's
// discovery), kept in one place. See tracer.h for the steps.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "launch/launcher.h"
#include "trace/event_model.h"
#include "trace/tracer.h"

namespace coldstart::trace {

/// The backend by name: `bpf`, `ptrace`, or `auto` (bpf, else ptrace with one
/// line on stderr saying why). Prepared for `target`. Throws UserError when
/// the named backend (or, for auto, neither) can run here.
std::unique_ptr<Tracer> choose_backend(const std::string& name, const TraceTarget& target,
                                       Detail detail = Detail::kSummary);

struct TracedRun {
  TraceLog log;
  launch::RunRecord at_ready;  ///< the launcher's record at the ready instant (or the failure)
  launch::RunRecord stopped;   ///< after the stop: exit status, the full stderr tail
};

/// Spawns `options` paused, lets `tracer` follow it, resumes, waits for
/// readiness, collects the log and stops the tree (cgroup removed). The
/// launch's own stop runs on every path, including an Interrupted thrown
/// from the wait.
TracedRun traced_run(Tracer& tracer, launch::LaunchOptions options);

/// Regular files the traced start opened successfully (open, openat,
/// openat2; relative paths resolved against `cwd`, symlinks resolved), in first-open order,
/// each once. Files that no longer exist, empty ones and /proc, /sys are left out.
std::vector<std::string> files_opened(const TraceLog& log, const std::string& cwd);

}  // namespace coldstart::trace
