// Go-aware environment for limited launches (bench and run): GOMAXPROCS from
// the CPU quota (automaxprocs' rule: floor(quota/period), at least 1) and
// GOMEMLIMIT from the memory limit (automemlimit's rule: 90% of it), unless
// the user set them or the Go runtime does it itself (Go >= 1.25 reads the
// cgroup CPU limit).
#pragma once

#include <string>
#include <vector>

#include "launch/launcher.h"

namespace coldstart::launch {

/// What go_runtime_env decided: entries to add and one note per decision.
struct GoRuntimeEnv {
  bool is_go = false;
  std::string go_version;
  std::vector<std::string> env;    ///< "GOMAXPROCS=1", "GOMEMLIMIT=483183820"
  std::vector<std::string> notes;  ///< "set GOMAXPROCS=1 from --cpu-max 50ms/100ms", ...
};

/// Decides for the program at `path` (read with the elf layer; a non-ELF or
/// unreadable file is simply "not Go"). `user_env` holds the --env entries;
/// coldstart's own environment counts as set by the user too.
GoRuntimeEnv go_runtime_env(const std::string& path, const Limits& limits, const std::vector<std::string>& user_env);

/// The pure rules, for tests: GOMAXPROCS for a quota, GOMEMLIMIT for a limit.
unsigned go_maxprocs_for(const CpuMax& cpu);
uint64_t go_memlimit_for(uint64_t limit_bytes);

/// True for "go1.25", "go1.25.3", "go1.30rc1" and later.
bool go_sets_maxprocs_from_cgroup(const std::string& go_version);

}  // namespace coldstart::launch
