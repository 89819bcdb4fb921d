# libFuzzer targets of src/trace: the Go runtime's inittrace/gctrace lines come
# from the traced program's stderr.
coldstart_fuzzer(trace_go_inittrace SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/trace_go_inittrace_fuzzer.cc LIBS coldstart_core)
