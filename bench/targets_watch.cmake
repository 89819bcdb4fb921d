# `ninja bench_watch_overhead`: cost of `coldstart watch` on an exec-heavy
# workload (thousands of /bin/true per second, with and without the agent,
# interleaved) and the agent's memory over a million execs (bench/watch_overhead.cc).
add_executable(watch_overhead ${CMAKE_CURRENT_SOURCE_DIR}/watch_overhead.cc)
target_link_libraries(watch_overhead PRIVATE PkgConfig::LIBBPF)  # the agent's programs' own run time
target_compile_definitions(watch_overhead PRIVATE
  COLDSTART_BINARY="$<TARGET_FILE:coldstart>"
  COLDSTART_FIXTURE_DIR="${CMAKE_BINARY_DIR}/examples")
add_custom_target(bench_watch_overhead
  COMMAND watch_overhead
  DEPENDS watch_overhead coldstart fixture_noop_static
  USES_TERMINAL
  COMMENT "watch overhead on an exec-heavy workload, memory over a million execs")
