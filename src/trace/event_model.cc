// Names of the event model's enums and of x86-64 syscalls (libseccomp's
// table, so a number the kernel adds later still gets a name once libseccomp
// knows it).
#include <seccomp.h>
#include <stdlib.h>

#include "trace/event_model.h"

namespace coldstart::trace {

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::kSpawn: return "spawn";
    case Phase::kLoader: return "loader";
    case Phase::kRuntimeInit: return "runtime-init";
    case Phase::kAppInit: return "app-init";
    case Phase::kInit: return "init";
  }
  return "?";
}

std::string_view wait_cause_name(WaitCause cause) {
  switch (cause) {
    case WaitCause::kDisk: return "disk";
    case WaitCause::kNetwork: return "network";
    case WaitCause::kSleep: return "sleeping";
    case WaitCause::kRunQueue: return "run-queue";
    case WaitCause::kThrottled: return "throttled";
    case WaitCause::kOther: return "other";
  }
  return "?";
}

std::string syscall_name(int nr) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
  if (name == nullptr) return "syscall_" + std::to_string(nr);
  std::string result(name);
  free(name);
  return result;
}

}  // namespace coldstart::trace
