# libFuzzer targets of src/launch: sd_notify datagrams come from the target
# program; --ready SPECs from the user.
coldstart_fuzzer(launch_notify SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/launch_notify_fuzzer.cc LIBS coldstart_launch)
coldstart_fuzzer(launch_ready_spec SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/launch_ready_spec_fuzzer.cc LIBS coldstart_launch)
