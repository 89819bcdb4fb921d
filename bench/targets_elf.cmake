# inspect_bench: coldstart inspect on a generated >= 100 MB binary, in process
# and as a command, side by side with readelf -a and file.
# `ninja bench_inspect` builds and runs it.
add_executable(inspect_bench ${CMAKE_CURRENT_SOURCE_DIR}/inspect_bench.cc)
target_link_libraries(inspect_bench PRIVATE coldstart_elf)
add_custom_target(bench_inspect
  COMMAND inspect_bench $<TARGET_FILE:coldstart> 21 128
  DEPENDS inspect_bench coldstart
  USES_TERMINAL
  COMMENT "coldstart inspect on a 128 MB binary vs readelf -a and file")
