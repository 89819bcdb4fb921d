# libFuzzer target of src/supervise: sd_notify datagrams reach the supervisor's
# protocol policy from the service; EnvironmentFile= text comes from users.
coldstart_fuzzer(supervise_notify_policy SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/supervise_notify_policy_fuzzer.cc
  LIBS coldstart_supervise)
