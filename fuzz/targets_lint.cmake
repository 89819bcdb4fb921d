# libFuzzer targets of src/lint and of the unit-file reader under it (src/unit,
# shared with run --unit):
# unit files, drop-ins and Kubernetes manifests are files users hand us.
coldstart_fuzzer(lint_unit_file SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/lint_unit_file_fuzzer.cc LIBS coldstart_lint)
coldstart_fuzzer(lint_k8s_yaml SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/lint_k8s_yaml_fuzzer.cc LIBS coldstart_lint)
