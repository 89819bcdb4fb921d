// Syscall tracepoints (syscalls:sys_exit_<name>) for the agent: found by
// their tracefs id, attached as perf tracepoint events carrying a BPF program.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace coldstart::watch {

/// The ids of tracepoints syscalls/<event> (e.g. "sys_exit_listen"), in the
/// order of `events`, read from a mounted tracefs, else from a tracefs
/// mounted for the moment in a private mount namespace of one short-lived
/// child (needs CAP_SYS_ADMIN; nothing stays mounted). An error says why not.
Result<std::vector<uint64_t>> syscall_tracepoint_ids(const std::vector<std::string>& events);

}  // namespace coldstart::watch
