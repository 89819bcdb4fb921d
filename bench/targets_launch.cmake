# Launcher benchmarks (issue 3).
# `ninja bench_launch_overhead`: coldstart bench --ready exit vs a bare
# posix_spawn+waitpid loop vs hyperfine -N, on the static no-op, same run.
add_executable(bench_launch_overhead ${CMAKE_CURRENT_SOURCE_DIR}/bench_launch_overhead.cc)
target_link_libraries(bench_launch_overhead PRIVATE nlohmann_json::nlohmann_json)
add_custom_target(bench_launch_overhead_run
  COMMAND bench_launch_overhead $<TARGET_FILE:coldstart> ${CMAKE_BINARY_DIR}/examples/noop-static 200 3
  DEPENDS bench_launch_overhead coldstart fixture_noop_static
  USES_TERMINAL
  COMMENT "coldstart bench --ready exit vs posix_spawn+waitpid vs hyperfine -N")
# `ninja bench_cold_warm`: --cold vs --warm on the Go fixture (bench/bench_cold_warm).
add_custom_target(bench_cold_warm
  COMMAND ${PROJECT_SOURCE_DIR}/bench/bench_cold_warm ${CMAKE_BINARY_DIR}
  DEPENDS coldstart fixture_go-user-service-static
  USES_TERMINAL
  COMMENT "coldstart bench --cold vs --warm on the Go user-service")
# `ninja bench_accuracy_run`: time-to-ready minus the fixture's own wait,
# coldstart's launcher vs a hand-made posix_spawn + recv loop, D = 1..50 ms.
add_executable(bench_accuracy ${CMAKE_CURRENT_SOURCE_DIR}/bench_accuracy.cc)
target_link_libraries(bench_accuracy PRIVATE coldstart_launch)
add_custom_target(bench_accuracy_run
  COMMAND bench_accuracy ${CMAKE_BINARY_DIR}/examples/launch-fixture 21
  DEPENDS bench_accuracy fixture_launch
  USES_TERMINAL
  COMMENT "time-to-ready accuracy: coldstart vs a hand-made timing loop")
# `ninja bench_image_layers`: overlayfs mount time and time to ready at 1..128
# layers, warm and cold (bench/image_layers; needs root and podman).
add_custom_target(bench_image_layers
  COMMAND ${PROJECT_SOURCE_DIR}/bench/image_layers ${CMAKE_BINARY_DIR}
  DEPENDS coldstart fixture_go-user-service-static
  USES_TERMINAL
  COMMENT "overlayfs layer count: mount time and time to ready, 1 to 128 layers")
