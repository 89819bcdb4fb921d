// Syscall tracepoints (syscalls:sys_exit_<name>) for the agent: found by
// their tracefs id, attached as perf tracepoint events carrying a BPF program.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace coldstart::watch {

/// The id of tracepoint syscalls/<event> (e.g. "sys_exit_listen"), read from
/// a mounted tracefs, else from a tracefs mounted for the moment in a
/// private mount namespace of a short-lived child (needs CAP_SYS_ADMIN;
/// nothing stays mounted). An error says why not.
Result<uint64_t> syscall_tracepoint_id(const std::string& event);

}  // namespace coldstart::watch
