# coldstart run's benchmarks are scripts (they drive the real binary and the
# real competitor, systemd-socket-activate, in the same run):
#   bench/run_lazy_vs_socket_activate BUILD_DIR [ROUNDS] [BURST] [QUOTA]
# This target runs it against this build tree: `ninja bench_run`.
add_custom_target(bench_run
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/run_lazy_vs_socket_activate ${CMAKE_BINARY_DIR} 25 500
  DEPENDS coldstart fixture_go-user-service-static
  USES_TERMINAL
  COMMENT "coldstart run --lazy vs systemd-socket-activate; --boost-until-ready")
