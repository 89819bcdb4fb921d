// Go runtime settings under cgroup limits.
//
// Older Go runtimes size themselves from the host, not the cgroup: GOMAXPROCS
// is the number of host CPUs (so a 0.5-CPU quota gets throttled by many busy
// Ps) and the GC ignores the memory limit. uber-go/automaxprocs sets
// GOMAXPROCS = floor(quota / period), minimum 1; KimMachineGun/automemlimit
// sets GOMEMLIMIT to 90% of the limit. Go 1.25 reads the CPU limit itself
// (leaf cgroup only), so we leave GOMAXPROCS alone for it.
#include "launch/go_env.h"

#include <cstdlib>

#include <fmt/format.h>

#include "core/error.h"
#include "elf/elf.h"

namespace coldstart::launch {
namespace {

bool user_set(const std::vector<std::string>& user_env, const std::string& key) {
  for (const auto& kv : user_env) {
    if (kv.starts_with(key + "=")) return true;
  }
  return std::getenv(key.c_str()) != nullptr;
}

}  // namespace

unsigned go_maxprocs_for(const CpuMax& cpu) {
  int64_t n = cpu.period.count() <= 0 ? 1 : cpu.quota / cpu.period;
  return static_cast<unsigned>(n < 1 ? 1 : n);
}

uint64_t go_memlimit_for(uint64_t limit_bytes) { return limit_bytes / 10 * 9; }

bool go_sets_maxprocs_from_cgroup(const std::string& go_version) {
  unsigned major = 0, minor = 0;
  if (std::sscanf(go_version.c_str(), "go%u.%u", &major, &minor) != 2) return false;
  return major > 1 || (major == 1 && minor >= 25);
}

GoRuntimeEnv go_runtime_env(const std::string& path, const Limits& limits, const std::vector<std::string>& user_env) {
  GoRuntimeEnv out;
  try {
    elf::ElfInfo info = elf::read_elf(path);
    out.is_go = info.is_go;
    out.go_version = info.go_version;
  } catch (const UserError&) {
    return out;  // a script or non-ELF file: not Go
  }
  if (!out.is_go) return out;
  const std::string version = out.go_version.empty() ? "Go" : out.go_version;
  if (limits.cpu_max) {
    if (user_set(user_env, "GOMAXPROCS")) {
      out.notes.push_back("GOMAXPROCS left as set by the user");
    } else if (go_sets_maxprocs_from_cgroup(out.go_version)) {
      out.notes.push_back(version + " sets GOMAXPROCS from the cgroup CPU limit itself");
    } else {
      unsigned n = go_maxprocs_for(*limits.cpu_max);
      out.env.push_back(fmt::format("GOMAXPROCS={}", n));
      out.notes.push_back(fmt::format("set GOMAXPROCS={} for {} from the CPU limit ({:.2f} CPUs)", n, version,
                                      limits.cpu_max->cpus()));
    }
  }
  std::optional<uint64_t> mem = limits.memory_high ? limits.memory_high : limits.memory_max;
  if (mem) {
    if (user_set(user_env, "GOMEMLIMIT")) {
      out.notes.push_back("GOMEMLIMIT left as set by the user");
    } else {
      uint64_t limit = go_memlimit_for(*mem);
      out.env.push_back(fmt::format("GOMEMLIMIT={}", limit));
      out.notes.push_back(fmt::format("set GOMEMLIMIT={} (90% of the memory limit) for {}", limit, version));
    }
  }
  return out;
}

}  // namespace coldstart::launch
