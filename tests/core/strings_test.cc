#include "core/strings.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace coldstart {
namespace {

TEST(ShellSplit, QuotesAndEscapes) {
  EXPECT_EQ(shell_split("a  'b c' \"d \\\"e\\\"\" f\\ g"),
            (std::vector<std::string>{"a", "b c", "d \"e\"", "f g"}));
  EXPECT_EQ(shell_split(""), std::vector<std::string>{});
  EXPECT_EQ(shell_split("''"), std::vector<std::string>{""});
  EXPECT_THROW(shell_split("a 'b"), UserError);
  EXPECT_THROW(shell_split("a \"b"), UserError);
}

TEST(ParseDuration, UnitsAndErrors) {
  EXPECT_DOUBLE_EQ(*parse_duration("20ms"), 0.020);
  EXPECT_DOUBLE_EQ(*parse_duration("1.5s"), 1.5);
  EXPECT_DOUBLE_EQ(*parse_duration("250us"), 250e-6);
  EXPECT_DOUBLE_EQ(*parse_duration("3"), 3.0);
  EXPECT_DOUBLE_EQ(*parse_duration("2m"), 120.0);
  EXPECT_DOUBLE_EQ(*parse_duration("1min 30s"), 90.0);
  EXPECT_DOUBLE_EQ(*parse_duration("1h30m"), 5400.0);
  EXPECT_DOUBLE_EQ(*parse_duration("1.5 s"), 1.5);
  EXPECT_FALSE(parse_duration("1min x"));
  EXPECT_FALSE(parse_duration("ms"));
  EXPECT_FALSE(parse_duration("5 parsecs"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration(""));
}

TEST(ParseSize, Suffixes) {
  EXPECT_EQ(*parse_size("512"), 512u);
  EXPECT_EQ(*parse_size("64K"), 65536u);
  EXPECT_EQ(*parse_size("512M"), 512u << 20);
  EXPECT_EQ(*parse_size("2GiB"), 2ull << 30);
  EXPECT_FALSE(parse_size("12Q"));
  EXPECT_FALSE(parse_size("99999999999T"));
}

TEST(Format, HumanUnits) {
  EXPECT_EQ(format_count(17571), "17,571");
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_percent(1, 8, "-"), "12.5%");
  EXPECT_EQ(format_percent(3, 0, "-"), "-");
  EXPECT_EQ(format_duration(0.00342), "3.420 ms");
  EXPECT_EQ(format_duration(0.000812), "812.0 µs");
  EXPECT_EQ(format_bytes(420 * 1024), "420.0 KiB");
  EXPECT_EQ(edit_distance("bnech", "bench"), 2u);
}

}  // namespace
}  // namespace coldstart
