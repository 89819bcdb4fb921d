// The printers of one traced launch (trace/traced_run.h): the phase summary
// `coldstart trace` prints by default, and the launch as Chrome trace tracks
// for report/chrome_trace.h's writer (--chrome-trace). The JSON of the same
// model is trace/trace_json.h's. Pure formatting; cli/trace.cc decides where
// each goes.
#pragma once

#include <string>

#include "report/chrome_trace.h"
#include "trace/event_model.h"
#include "trace/go_gc.h"
#include "trace/go_inittrace.h"
#include "trace/phases.h"

namespace coldstart::report {

/// The human summary: the ready line, one row per phase (wall, on-CPU, each
/// wait cause, syscalls, faults, threads), the GC row of a Go target (`gc`
/// non-null), the critical thread's top waits, the loader's files, the most
/// frequent syscalls, the Go package inits (`go` non-null) and the notes.
/// `spec` is the readiness spec as the user wrote it.
std::string trace_summary_text(const trace::TraceLog& log, const trace::TraceSummary& sum,
                               const trace::GoInitReport* go, const std::string& spec, const trace::GcSummary* gc);

/// The launch as Chrome trace tracks: one for the phases, one per thread or
/// process of the tree (syscalls and waits on it), one for the Go GC's cycles
/// and stop-the-world pauses. Slices are clipped to [t0, t0 + total].
ChromeTrace chrome_trace_of(const trace::TraceLog& log, const trace::TraceSummary& sum);

}  // namespace coldstart::report
