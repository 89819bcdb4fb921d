// End-to-end behaviour of the command line itself: the error model and dispatch.
#include <gtest/gtest.h>

#include "test_util.h"

namespace coldstart {
namespace {

std::string cs() { return test::coldstart_binary(); }

TEST(Cli, UnknownCommandSuggestsTheNearestOne) {
  auto r = test::run_shell(cs() + " bnech");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "coldstart: error: unknown command 'bnech' (did you mean 'bench'?); see coldstart --help\n");
}

TEST(Cli, BadOptionIsOneLineExit2) {
  auto r = test::run_shell(cs() + " inspect --no-such-option");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.err.starts_with("coldstart: error: ")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Cli, HelpListsEveryCommand) {
  auto r = test::run_shell(cs() + " --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* c : {"inspect", "bench", "trace", "prewarm", "run", "lint", "report"})
    EXPECT_NE(r.out.find(c), std::string::npos) << c;
}

TEST(Cli, NoCommandIsAUsageError) {
  auto r = test::run_shell(cs());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.err.starts_with("coldstart: error: ")) << r.err;
}

}  // namespace
}  // namespace coldstart
