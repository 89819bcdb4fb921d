# lint_bench: coldstart lint on generated 1, 10 and 50 MiB manifests, to show
# the time grows linearly with the input. `ninja bench_lint` builds and runs it.
add_executable(lint_bench ${CMAKE_CURRENT_SOURCE_DIR}/lint_bench.cc)
target_link_libraries(lint_bench PRIVATE coldstart_core)
add_custom_target(bench_lint
  COMMAND lint_bench $<TARGET_FILE:coldstart> 5
  DEPENDS lint_bench coldstart
  USES_TERMINAL
  COMMENT "coldstart lint on 1, 10 and 50 MiB of YAML")
