// The files a running process tree has mapped: what `bench --cold` must evict
// when the command is a wrapper (setpriv, env, nice, taskset, a script) that
// execs the real program. Evicting the wrapper's own binary and libraries
// leaves the program's files warm, and the "cold" figure is warm.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace coldstart::launch {

/// The regular files mapped by `pids` (the /proc/<pid>/maps path column,
/// "(deleted)" and pseudo entries such as [heap] left out), executables first,
/// each path once.
std::vector<std::string> mapped_files_of(const std::vector<pid_t>& pids);

/// True when `program` (a resolved path) is a wrapper that execs another
/// program: a known one (setpriv, env, nice, taskset, ionice, chrt, stdbuf,
/// timeout, runuser, sudo, su, setsid, numactl, prlimit) or a script ("#!").
bool is_exec_wrapper(const std::string& program);

}  // namespace coldstart::launch
