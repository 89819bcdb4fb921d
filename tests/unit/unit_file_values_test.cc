// Value grammars (time spans, sizes, percentages, words, Exec lines,
// Environment=) and the typed [Service]/[Socket] reading. Time spans are
// also checked against systemd's own parser through `systemd-analyze
// timespan` when that program exists.
#include "unit/unit_file_values.h"

#include <gtest/gtest.h>

#include "unit/unit_file_service.h"
#include "test_util.h"

namespace coldstart::unit {
namespace {

constexpr uint64_t kSec = kUsecPerSec;

TEST(Timespan, AcceptsWhatSystemdAccepts) {
  struct Case {
    const char* text;
    uint64_t usec;
  } cases[] = {
      {"90", 90 * kSec},          {"1min 30s", 90 * kSec},   {"1min30s", 90 * kSec},  {"1.5h", 5400 * kSec},
      {".5s", kSec / 2},          {"5 6", 11 * kSec},        {"250ms", 250000},       {"3us", 3},
      {"2M", 2 * 2629800 * kSec}, {"1y", 31557600 * kSec},   {"1w 1d", 8 * 86400 * kSec},
      {"  10 s ", 10 * kSec},     {"+5", 5 * kSec},          {"0", 0},                {"1.5min", 90 * kSec},
      {"2 hours 1 minute", 7260 * kSec}, {"1\xC2\xB5s", 1}, {"100msec", 100000},
  };
  for (const Case& c : cases) {
    auto v = parse_timespan(c.text);
    ASSERT_TRUE(v) << c.text << ": " << v.error();
    EXPECT_EQ(*v, c.usec) << c.text;
  }
  EXPECT_EQ(*parse_timespan("infinity"), kUsecInfinity);
  EXPECT_EQ(*parse_timespan(" infinity "), kUsecInfinity);
  EXPECT_EQ(*parse_timespan("5", 1000), 5000u);  // default unit ms
}

TEST(Timespan, RejectsWhatSystemdRejects) {
  for (const char* bad : {"", "  ", "-1", "ten", "3.s", "1.2.3", "5 parsecs", "infinity s", "1e3", "+.5",
                          "99999999999999999999", "5x"}) {
    EXPECT_FALSE(parse_timespan(bad)) << bad;
  }
}

TEST(Timespan, FormatsLikeSystemd) {
  EXPECT_EQ(format_timespan(90 * kSec), "1min 30s");
  EXPECT_EQ(format_timespan(kSec / 2), "500ms");
  EXPECT_EQ(format_timespan(1500000), "1.500000s");
  EXPECT_EQ(format_timespan(0), "0");
  EXPECT_EQ(format_timespan(kUsecInfinity), "infinity");
  EXPECT_EQ(format_timespan(2 * 2629800 * kSec), "2month");
  EXPECT_EQ(format_timespan(31557600 * kSec + 3), "1y 3us");
}

TEST(Timespan, AgreesWithSystemdAnalyze) {
  if (access("/usr/bin/systemd-analyze", X_OK) != 0) GTEST_SKIP() << "systemd-analyze not installed";
  for (const char* t : {"1min 30s", ".5s", "5 6", "1.5h", "2M", "1y 3us", "90", "3.s", "1.2.3", "-1", "ten",
                        "1min30", "7d 1h", "0.000001s", "12.34s.56", "infinity"}) {
    auto r = test::run_shell(std::string("/usr/bin/systemd-analyze timespan '") + t + "'");
    auto mine = parse_timespan(t);
    if (r.exit_code != 0) {
      EXPECT_FALSE(mine) << t << " systemd rejects it: " << r.err;
      continue;
    }
    ASSERT_TRUE(mine) << t << ": " << mine.error();
    EXPECT_NE(r.out.find("\xCE\xBCs: " + std::to_string(*mine) + "\n"), std::string::npos) << t << "\n" << r.out;
    EXPECT_NE(r.out.find("Human: " + format_timespan(*mine) + "\n"), std::string::npos) << t << "\n" << r.out;
  }
}

TEST(Size, Iec) {
  EXPECT_EQ(*parse_iec_size("4096"), 4096u);
  EXPECT_EQ(*parse_iec_size("512M"), 512ull << 20);
  EXPECT_EQ(*parse_iec_size("1.5G"), 3ull << 29);
  EXPECT_EQ(*parse_iec_size("1G 512M"), (1ull << 30) + (512ull << 20));
  EXPECT_EQ(*parse_iec_size("10 K"), 10240u);
  EXPECT_EQ(*parse_iec_size("7B"), 7u);
  for (const char* bad : {"", "512MB", "1k", "512M 1G", "-1", "M", "1Q", "5 6", "99999999999999999999E"})
    EXPECT_FALSE(parse_iec_size(bad)) << bad;
}

TEST(Percent, Permyriad) {
  EXPECT_EQ(*parse_permyriad("50%"), 5000u);
  EXPECT_EQ(*parse_permyriad("12.5%"), 1250u);
  EXPECT_EQ(*parse_permyriad("12.34%"), 1234u);
  EXPECT_EQ(*parse_permyriad("125\xE2\x80\xB0"), 1250u);
  EXPECT_EQ(*parse_permyriad("5000\xE2\x80\xB1"), 5000u);
  EXPECT_EQ(*parse_permyriad("010%"), 800u);  // strtol base 0: octal
  EXPECT_EQ(*parse_permyriad("250%", false), 25000u);
  for (const char* bad : {"50", "250%", "-5%", "12.345%", "1.%", ".5%", "x%", "%"})
    EXPECT_FALSE(parse_permyriad(bad)) << bad;
}

TEST(CpuQuotaAndMemory, Limits) {
  EXPECT_EQ(*parse_cpu_quota("50%"), 500000u);
  EXPECT_EQ(*parse_cpu_quota("200%"), 2000000u);
  EXPECT_EQ(*parse_cpu_quota(""), kUsecInfinity);
  EXPECT_FALSE(parse_cpu_quota("0%"));
  EXPECT_FALSE(parse_cpu_quota("half"));
  uint64_t ram = 8ull << 30;
  auto m = parse_memory_limit("MemoryMax", "512M", ram);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->unlimited);
  EXPECT_EQ(m->bytes, 512ull << 20);
  EXPECT_TRUE(parse_memory_limit("MemoryMax", "infinity", ram)->unlimited);
  EXPECT_TRUE(parse_memory_limit("MemoryMax", "", ram)->unlimited);
  auto pct = parse_memory_limit("MemoryHigh", "25%", ram);
  EXPECT_EQ(pct->bytes, 2ull << 30);
  EXPECT_TRUE(pct->from_percent);
  EXPECT_FALSE(parse_memory_limit("MemoryMax", "0", ram));
  EXPECT_TRUE(parse_memory_limit("MemorySwapMax", "0", ram));
  EXPECT_FALSE(parse_memory_limit("MemoryMax", "1GB", ram));
}

TEST(Boolean, Words) {
  for (const char* y : {"yes", "TRUE", "on", "1", "y", "t"}) EXPECT_TRUE(*parse_boolean(y)) << y;
  for (const char* n : {"no", "False", "off", "0", "n", "f"}) EXPECT_FALSE(*parse_boolean(n)) << n;
  EXPECT_FALSE(parse_boolean("maybe"));
}

TEST(Words, QuotesEscapesAndErrors) {
  auto w = split_words(R"(a "b c" 'd e'f g\x41 "h\"i" \s x""y '')");
  ASSERT_TRUE(w) << w.error();
  std::vector<std::string> texts;
  for (auto& x : *w) texts.push_back(x.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"a", "b c", "d ef", "gA", "h\"i", " ", "xy", ""}));
  EXPECT_EQ((*w)[1].offset, 2u);
  size_t at = 99;
  EXPECT_FALSE(split_words("ok \"open", &at));
  EXPECT_EQ(at, 3u);
  EXPECT_FALSE(split_words("a \\q", &at));
  EXPECT_EQ(at, 2u);
  EXPECT_FALSE(split_words("a\\", &at));
  EXPECT_FALSE(split_words("\\x00"));
  EXPECT_EQ((*split_words("\\u00e9"))[0].text, "\xC3\xA9");
  EXPECT_EQ((*split_words("\\101"))[0].text, "A");
}

TEST(Exec, PrefixesArgv0AndSeparators) {
  auto c = parse_exec("-@/usr/bin/web web-main --port 80 ; +/bin/echo \\; done");
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].path, "/usr/bin/web");
  EXPECT_EQ((*c)[0].argv, (std::vector<std::string>{"web-main", "--port", "80"}));
  EXPECT_TRUE((*c)[0].ignore_failure);
  EXPECT_FALSE((*c)[0].privileged);
  EXPECT_EQ((*c)[1].argv, (std::vector<std::string>{"/bin/echo", ";", "done"}));
  EXPECT_TRUE((*c)[1].privileged);
  EXPECT_EQ((*c)[1].offset, 36u);
  auto q = parse_exec("/bin/sh -c \"echo 'hi there'\"");
  EXPECT_EQ((*q)[0].argv[2], "echo 'hi there'");
  EXPECT_TRUE(parse_exec("")->empty());
  size_t at = 0;
  EXPECT_FALSE(parse_exec("bin/web", &at));
  EXPECT_FALSE(parse_exec("-", &at));
  EXPECT_FALSE(parse_exec("/bin/x \"open", &at));
  EXPECT_EQ(at, 7u);
  EXPECT_EQ(resolve_exec_path("sh"), "/usr/bin/sh");
  EXPECT_EQ(resolve_exec_path("no-such-program-xyz"), "");
}

TEST(Environment, AssignmentsAndErrors) {
  auto e = parse_environment(R"(A=1 "B=two words" C= D=x=y)");
  ASSERT_TRUE(e) << e.error();
  ASSERT_EQ(e->size(), 4u);
  EXPECT_EQ((*e)[1], (std::pair<std::string, std::string>{"B", "two words"}));
  EXPECT_EQ((*e)[2].second, "");
  EXPECT_EQ((*e)[3].second, "x=y");
  size_t at = 0;
  EXPECT_FALSE(parse_environment("A=1 novalue", &at));
  EXPECT_EQ(at, 4u);
  EXPECT_FALSE(parse_environment("1A=x"));
}

TEST(Specifiers, NameDerivedAndPaths) {
  EXPECT_EQ(*expand_specifiers("%n %N %p %i %I %t/%p 100%%", "api@blue-1.service"),
            "api@blue-1.service api@blue-1 api blue-1 blue/1 /run/api 100%");
  EXPECT_EQ(*expand_specifiers("%H", "a.service"), "%H");
  EXPECT_FALSE(expand_specifiers("%Z", "a.service"));
  EXPECT_FALSE(expand_specifiers("50%", "a.service"));
}

TEST(ServiceConfig, DefaultsWhenNothingIsSet) {
  UnitFile u;
  u.parse("[Service]\nExecStart=/bin/true\n", "a.service");
  ServiceConfig s = read_service(u, 1ull << 30);
  EXPECT_EQ(s.type.value, "simple");
  EXPECT_FALSE(s.type.is_set());
  EXPECT_EQ(s.timeout_start_usec.value, 90 * kSec);
  EXPECT_EQ(s.runtime_max_usec.value, kUsecInfinity);
  EXPECT_EQ(s.watchdog_usec.value, 0u);
  EXPECT_EQ(s.cpu_quota_usec_per_sec.value, kUsecInfinity);
  EXPECT_TRUE(s.memory_max.value.unlimited);
  EXPECT_EQ(s.main_program(), "/bin/true");
  EXPECT_TRUE(s.problems.empty());
}

TEST(ServiceConfig, ReadsStartupSettingsAndRecordsRejectedValues) {
  UnitFile u;
  u.parse(
      "[Service]\n"
      "Type=notify\n"
      "ExecStart=/usr/bin/web --name %n\n"
      "TimeoutSec=30\n"
      "TimeoutStartSec=0\n"
      "RuntimeMaxSec=2h\n"
      "WatchdogSec=ten seconds\n"
      "Environment=A=1 \"B=x y\"\n"
      "Environment=A=2 GOMAXPROCS=2\n"
      "CPUQuota=50%\n"
      "MemoryMax=1G 512M\n"
      "MemoryHigh=1GB\n"
      "Restart=sometimes\n",
      "web.service");
  ServiceConfig s = read_service(u, 1ull << 33);
  EXPECT_EQ(s.type.value, "notify");
  EXPECT_EQ(s.type.pos->line, 2);
  ASSERT_EQ(s.exec_start.value.size(), 1u);
  EXPECT_EQ(s.exec_start.value[0].argv.back(), "web.service");
  EXPECT_EQ(s.timeout_start_usec.value, kUsecInfinity);  // "0" means no timeout
  EXPECT_EQ(s.timeout_stop_usec.value, 30 * kSec);
  EXPECT_EQ(s.runtime_max_usec.value, 7200 * kSec);
  EXPECT_EQ(s.cpu_quota_usec_per_sec.value, 500000u);
  EXPECT_EQ(s.memory_max.value.bytes, (1ull << 30) + (512ull << 20));
  EXPECT_EQ(*s.env("A"), "2");
  EXPECT_EQ(*s.env("B"), "x y");
  EXPECT_EQ(*s.env("GOMAXPROCS"), "2");
  EXPECT_EQ(s.environment.value.back().first, "GOMAXPROCS");
  // Rejected values: WatchdogSec, MemoryHigh, Restart keep their defaults.
  EXPECT_EQ(s.watchdog_usec.value, 0u);
  EXPECT_TRUE(s.memory_high.value.unlimited);
  EXPECT_EQ(s.restart.value, "no");
  ASSERT_EQ(s.problems.size(), 3u);
  EXPECT_EQ(s.problems[0].key, "WatchdogSec");
  EXPECT_EQ(to_string(s.problems[0].pos), "web.service:7:13");
  EXPECT_EQ(s.problems[1].key, "MemoryHigh");
  EXPECT_EQ(s.problems[2].key, "Restart");
}

TEST(SocketConfig, ListenersAndService) {
  UnitFile u;
  u.parse("[Socket]\nListenStream=127.0.0.1:8081\nListenStream=/run/%p.sock\nAccept=no\n", "web.socket");
  SocketConfig k = read_socket(u);
  ASSERT_EQ(k.listen_stream.size(), 2u);
  EXPECT_EQ(k.listen_stream[1].value, "/run/web.sock");
  EXPECT_FALSE(k.accept.value);
  EXPECT_EQ(k.service.value, "web.service");
  EXPECT_FALSE(k.service.is_set());
  UnitFile v;
  v.parse("[Socket]\nListenStream=80\nService=api.service\nAccept=perhaps\n", "web.socket");
  SocketConfig k2 = read_socket(v);
  EXPECT_EQ(k2.service.value, "api.service");
  ASSERT_EQ(k2.problems.size(), 1u);
  EXPECT_EQ(k2.problems[0].key, "Accept");
}

}  // namespace
}  // namespace coldstart::unit
