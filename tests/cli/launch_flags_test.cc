// Every command that launches a target takes the shared launch flags with the
// same syntax and refuses the same bad values with the same one-line error
// (cli/launch_flags.h). A table of values x a table of commands.
#include <gtest/gtest.h>

#include "test_util.h"

namespace coldstart {
namespace {

/// One command that launches, as a shell prefix and suffix around the flags.
struct Launcher {
  const char* name;
  std::string before;  // "bench --runs 1 --warmup 0"
  std::string after;   // the target
  const char* ready_timeout_flag;  // run calls it --timeout-start (systemd's TimeoutStartSec=)
};

std::vector<Launcher> launchers() {
  std::string fx = test::fixture("launch-fixture");
  return {
      {"bench", "bench --runs 1 --warmup 0", test::shell_quote(fx + " exit 0"), "--ready-timeout"},
      {"trace", "trace --backend ptrace", "-- " + fx + " exit 0", "--ready-timeout"},
      {"prewarm-record", "prewarm record -o /dev/null", "-- " + fx + " exit 0", "--ready-timeout"},
      {"run", "run --ready log:ready --runtime-max 10ms --restart no", "-- " + fx + " log 0", "--timeout-start"},
  };
}

struct FlagCase {
  std::string flag;   // "{timeout}" stands for the command's ready-timeout flag
  std::string value;
  std::string error;  // "" = accepted; else the whole stderr line after "coldstart: error: "
};

std::vector<FlagCase> flag_cases() {
  const std::string dur = "want a duration like 250ms, 10s, 1min 30s or bare seconds";
  return {
      {"{timeout}", "10s", ""},
      {"{timeout}", "2500ms", ""},
      {"{timeout}", "1min 30s", ""},
      {"{timeout}", "5", ""},
      {"{timeout}", "10x", "bad {timeout} '10x': " + dur},
      {"{timeout}", "0", "bad {timeout} '0': want a duration above 0"},
      {"--env", "FOO=bar", ""},
      {"--env", "FOO", "bad --env 'FOO': want K=V"},
      {"--env", "=x", "bad --env '=x': want K=V"},
      {"--memory-high", "256M", ""},
      {"--memory-high", "0", "bad --memory-high '0': want a size above 0"},
      {"--memory-max", "lots", "bad --memory-max 'lots': want a size like 256M, 2G or bare bytes"},
      {"--cpu-max", "50ms/100ms", ""},
      {"--cpu-max", "500", "bad --cpu-max '500': the cpu.max quota must be at least 1ms"},
      {"--cpu-max", "5ms/2s", "bad --cpu-max '5ms/2s': the cpu.max period must be between 1ms and 1s"},
      {"--ready", "tcp:localhost:0",
       "bad --ready 'tcp:localhost:0': bad port '0' (want 1-65535)"},
      {"--cwd", "/tmp", ""},
      {"--cwd", "/no/such/dir", "bad --cwd '/no/such/dir': No such file or directory"},
  };
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

TEST(LaunchFlags, EveryLaunchingCommandAcceptsAndRefusesTheSameValues) {
  for (const Launcher& l : launchers()) {
    for (const FlagCase& c : flag_cases()) {
      std::string flag = replace_all(c.flag, "{timeout}", l.ready_timeout_flag);
      std::string line = l.before + " " + flag + " " + test::shell_quote(c.value) + " " + l.after;
      auto r = test::run_shell(test::cs(line));
      SCOPED_TRACE(std::string(l.name) + ": " + line);
      if (c.error.empty()) {
        EXPECT_NE(r.exit_code, 2) << r.err;
        EXPECT_EQ(r.err.find("coldstart: error:"), std::string::npos) << r.err;
      } else {
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_EQ(r.err, "coldstart: error: " + replace_all(c.error, "{timeout}", flag) + "\n");
        EXPECT_EQ(r.out, "");  // refused before anything ran
      }
    }
  }
}

}  // namespace
}  // namespace coldstart
