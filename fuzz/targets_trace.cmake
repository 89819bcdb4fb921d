# libFuzzer targets of src/trace: the Go runtime's inittrace/gctrace lines come
# from the traced program's stderr. The trace library itself needs the BPF
# skeleton, so the fuzzer compiles the parser's source and sees only the
# trace layer's headers (and core's, through coldstart_core).
add_library(fuzz_trace_headers INTERFACE)
coldstart_layer_headers(fuzz_trace_headers trace INTERFACE)
coldstart_fuzzer(trace_go_inittrace SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/trace_go_inittrace_fuzzer.cc
  LIBS coldstart_core fuzz_trace_headers)
