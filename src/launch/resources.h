// Resource figures of a launch's process tree (see ResourceUsage in launcher.h).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <vector>

#include "launch/launcher.h"

namespace coldstart {
class CgroupDir;
}

namespace coldstart::launch {

/// Sums what the tree used up to now: the live pids' /proc/<pid>/stat and
/// status (their own and their reaped children's figures), the reaped main
/// process's rusage if given, and the cgroups' cpu.stat where present.
ResourceUsage tree_usage(const std::vector<pid_t>& live, const rusage* reaped_main, const CgroupDir* v2,
                         const CgroupDir* v1_cpu);

}  // namespace coldstart::launch
