# libFuzzer target of src/report: the bench, trace and run JSON that
# `coldstart report` (and bench --baseline's read-back) accepts from users.
coldstart_fuzzer(report_json SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/report_json_fuzzer.cc LIBS coldstart_report)
