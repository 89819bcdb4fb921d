// The last line a library's log callback printed (libbpf's print callback,
// used by trace, watch and prewarm record's page tracer), kept so that a failure is explained in one line
// instead of the library printing its whole log (a verifier dump) on our
// stderr. One store for the process: the callback is process-wide too.
#pragma once

#include <cstdarg>
#include <string>

namespace coldstart {

/// Formats one printf-style message and keeps it (trailing blanks and
/// newlines trimmed) if it is not empty. Thread-safe.
void keep_last_log_line(const char* format, va_list args);

/// The last kept line, "" if none.
std::string last_log_line();

/// Why loading a BPF program failed, in one line: "BPF STEP: strerror(err)"
/// and either what privileges it needs (EPERM, EACCES) or libbpf's last line.
std::string bpf_failure(const char* step, int err);

}  // namespace coldstart
