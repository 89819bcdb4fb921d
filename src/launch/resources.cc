// Resource figures of a process tree up to an instant.
//
// Kernel facts relied on:
//  * /proc/<pid>/stat fields 10-17 are minflt, cminflt, majflt, cmajflt, utime,
//    stime, cutime, cstime (clock ticks); the c* fields hold the totals of the
//    children this process has reaped, so live processes plus their reaped
//    descendants are covered. The comm field (2) may contain spaces and ')', so
//    fields are counted after the last ')'.
//  * /proc/<pid>/status has VmHWM (peak RSS of that process) and the
//    voluntary/nonvoluntary context switch counts.
//  * waitid(2)'s rusage of a reaped child is RUSAGE_BOTH: itself plus its
//    reaped descendants. Its ru_maxrss includes the mm the child had before
//    execve (for a vfork-style spawn: the launcher's), so it is not used.
//  * A cgroup's cpu.stat counts every task that ever ran in it, exited ones
//    included: v2 usage_usec/user_usec/system_usec and nr_periods/
//    nr_throttled/throttled_usec; v1 cpu.stat nr_periods/nr_throttled/
//    throttled_time (ns).
//    When present, it replaces the /proc sums for CPU time.
#include "core/clock.h"
#include "launch/resources.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "core/cgroup.h"
#include "core/file.h"
#include "core/strings.h"

namespace coldstart::launch {
namespace {

uint64_t to_u64(std::string_view v) {
  uint64_t out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

void add_proc_stat(pid_t pid, ResourceUsage& u, Duration tick) {
  auto stat = read_text_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return;
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return;
  auto f = split(std::string_view(*stat).substr(close + 2), ' ');
  // f[0] is field 3 (state); field N is f[N - 3].
  if (f.size() < 15) return;
  u.minor_faults += to_u64(f[10 - 3]) + to_u64(f[11 - 3]);
  u.major_faults += to_u64(f[12 - 3]) + to_u64(f[13 - 3]);
  u.user_time += static_cast<int64_t>(to_u64(f[14 - 3]) + to_u64(f[16 - 3])) * tick;
  u.system_time += static_cast<int64_t>(to_u64(f[15 - 3]) + to_u64(f[17 - 3])) * tick;
}

void add_proc_status(pid_t pid, ResourceUsage& u) {
  auto status = read_text_file("/proc/" + std::to_string(pid) + "/status");
  if (!status) return;
  for (const auto& line : split(*status, '\n')) {
    auto value = [&](std::string_view key) { return to_u64(trim(std::string_view(line).substr(key.size()))); };
    if (line.starts_with("VmHWM:")) u.peak_rss_bytes = std::max(u.peak_rss_bytes, value("VmHWM:") * 1024);
    else if (line.starts_with("voluntary_ctxt_switches:")) u.voluntary_switches += value("voluntary_ctxt_switches:");
    else if (line.starts_with("nonvoluntary_ctxt_switches:")) u.involuntary_switches += value("nonvoluntary_ctxt_switches:");
  }
}

}  // namespace

ResourceUsage tree_usage(const std::vector<pid_t>& live, const rusage* reaped_main, const CgroupDir* v2,
                         const CgroupDir* v1_cpu) {
  ResourceUsage u;
  const Duration tick = Duration(kNsPerSecond / ::sysconf(_SC_CLK_TCK));
  for (pid_t pid : live) {
    add_proc_stat(pid, u, tick);
    add_proc_status(pid, u);
  }
  if (reaped_main != nullptr) {
    const rusage& r = *reaped_main;
    auto time = [](const timeval& tv) { return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec); };
    u.user_time += time(r.ru_utime);
    u.system_time += time(r.ru_stime);
    u.minor_faults += static_cast<uint64_t>(r.ru_minflt);
    u.major_faults += static_cast<uint64_t>(r.ru_majflt);
    u.voluntary_switches += static_cast<uint64_t>(r.ru_nvcsw);
    u.involuntary_switches += static_cast<uint64_t>(r.ru_nivcsw);
    // Not r.ru_maxrss: execve(2) folds the pre-exec mm's peak into it, and
    // before its exec a clone(CLONE_VM) child's mm is the launcher's. The
    // caller takes exited processes' peaks from exit_stats.h.
  }
  // Without a cgroup, a live process's CPU time is only known in clock ticks.
  u.cpu_source = live.empty() && reaped_main != nullptr ? "rusage" : "proc";
  u.cpu_known = u.cpu_source != "proc";
  if (v2 != nullptr && v2->valid()) {
    if (auto s = v2->read("cpu.stat")) {
      auto user = cgroup_stat_value(*s, "user_usec"), sys = cgroup_stat_value(*s, "system_usec");
      if (user && sys) {
        u.user_time = usec(*user);
        u.system_time = usec(*sys);
        u.cpu_source = "cgroup cpu.stat";
        u.cpu_known = true;
      }
      if (auto p = cgroup_stat_value(*s, "nr_periods")) u.cpu_periods = *p;
      if (auto t = cgroup_stat_value(*s, "nr_throttled")) u.throttled_periods = *t;
      if (auto t = cgroup_stat_value(*s, "throttled_usec")) u.throttled_time = usec(*t);
    }
  }
  if (v1_cpu != nullptr && v1_cpu->valid()) {
    if (auto s = v1_cpu->read("cpu.stat")) {
      if (auto p = cgroup_stat_value(*s, "nr_periods")) u.cpu_periods = *p;
      if (auto t = cgroup_stat_value(*s, "nr_throttled")) u.throttled_periods = *t;
      if (auto t = cgroup_stat_value(*s, "throttled_time")) u.throttled_time = nsec(*t);
    }
  }
  return u;
}

}  // namespace coldstart::launch
