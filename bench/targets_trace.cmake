# `ninja bench_trace_overhead`: tracing overhead of coldstart trace (both
# backends) against strace -f and strace --seccomp-bpf (bench/trace_overhead).
add_custom_target(bench_trace_overhead
  COMMAND ${PROJECT_SOURCE_DIR}/bench/trace_overhead ${CMAKE_BINARY_DIR}
  DEPENDS coldstart fixture_go-user-service-cgo trace_fixture_syscall_dense
  USES_TERMINAL
  COMMENT "trace overhead vs strace")
