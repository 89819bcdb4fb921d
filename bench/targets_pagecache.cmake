# Page-cache benchmarks (issue 5).
# `ninja bench_prewarm`: time-to-ready warm / cold / cold after prewarm apply
# (each load method) / cold after vmtouch -t, bytes loaded and load time, for
# the Go cgo fixture and the C++ user-service (bench/prewarm_compare).
add_executable(prewarm_bench ${CMAKE_CURRENT_SOURCE_DIR}/prewarm_bench.cc)
target_link_libraries(prewarm_bench PRIVATE coldstart_launch coldstart_pagecache fmt::fmt)
add_custom_target(bench_prewarm
  COMMAND ${PROJECT_SOURCE_DIR}/bench/prewarm_compare ${CMAKE_BINARY_DIR}
  DEPENDS prewarm_bench coldstart user-service fixture_go-user-service-cgo
  USES_TERMINAL
  COMMENT "prewarm apply vs vmtouch -t vs warm vs cold")
# `prewarm_misses MANIFEST READY -- PROG`: what a start after apply still reads
# (the page tracer on an applied start; docs/prewarm.md).
add_executable(prewarm_misses ${CMAKE_CURRENT_SOURCE_DIR}/prewarm_misses.cc)
target_link_libraries(prewarm_misses PRIVATE coldstart_launch coldstart_pagecache fmt::fmt)
