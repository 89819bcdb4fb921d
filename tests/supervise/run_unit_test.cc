// `run --unit`: every supported key of a service unit (and its socket unit)
// lands in the supervisor's options as systemd would apply it.
#include "supervise/run_unit.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/file.h"
#include "test_util.h"

namespace coldstart::supervise {
namespace {

using unit::UnitFile;

constexpr Duration kS = std::chrono::seconds(1);

UnitFile parse(const std::string& text, const std::string& name) {
  UnitFile u;
  u.parse(text, name);
  return u;
}

TEST(RunUnit, EverySupportedKeyAsSystemdReadsIt) {
  test::TempDir dir;
  write_file_atomic(dir.path() + "/env", "# comment\nexport FROM_FILE=\"quoted value\"\nSHARED=file\n");
  UnitFile svc = parse(
      "[Unit]\nDescription=web\n"
      "[Service]\nType=notify\n"
      "ExecStartPre=-/bin/false\n"
      "ExecStart=/bin/echo \"two words\" \\\n  %n\n"
      "Environment=A=1 \"B=x y\" SHARED=unit\n"
      "EnvironmentFile=" + dir.path() + "/env\n"
      "EnvironmentFile=-/nonexistent/optional\n"
      "WorkingDirectory=/tmp\n"
      "NotifyAccess=all\n"
      "TimeoutStartSec=1min 30s\n"
      "TimeoutStopSec=250ms\n"
      "RuntimeMaxSec=2h\n"
      "WatchdogSec=3\n"
      "Restart=on-failure\nRestartSec=200ms\n"
      "CPUQuota=20%\n"
      "MemoryHigh=256M\nMemoryMax=1G\n"
      "User=nobody\nProtectSystem=strict\n",
      "web.service");
  UnitFile sock = parse("[Socket]\nListenStream=127.0.0.1:8080\nListenStream=/run/web.sock\nListenStream=9090\n"
                        "FileDescriptorName=http\nBacklog=64\n",
                        "web.socket");
  UnitRunConfig u = unit_to_options(svc, &sock);
  const SupervisorOptions& o = u.options;
  EXPECT_EQ(o.launch.ready.kind, launch::ProbeKind::kNotify);
  EXPECT_EQ(o.launch.argv, (std::vector<std::string>{"/bin/echo", "two words", "web.service"}));
  ASSERT_EQ(o.pre_commands.size(), 1u);
  EXPECT_TRUE(o.pre_commands[0].ignore_failure);
  // EnvironmentFile= overrides Environment= (systemd.exec(5)): the file's entries come last.
  EXPECT_EQ(o.launch.env, (std::vector<std::string>{"A=1", "B=x y", "SHARED=unit", "FROM_FILE=quoted value",
                                                    "SHARED=file"}));
  EXPECT_EQ(o.launch.cwd, "/tmp");
  EXPECT_EQ(o.lifecycle.notify_access, NotifyAccess::kAll);
  EXPECT_EQ(o.lifecycle.timeout_start, 90 * kS);
  EXPECT_EQ(o.lifecycle.timeout_stop, kS / 4);
  EXPECT_EQ(o.lifecycle.runtime_max, 7200 * kS);
  EXPECT_EQ(o.lifecycle.watchdog, 3 * kS);
  EXPECT_EQ(o.lifecycle.restart, RestartPolicy::kOnFailure);
  EXPECT_EQ(o.lifecycle.restart_delay, kS / 5);
  ASSERT_TRUE(o.launch.limits.cpu_max.has_value());
  EXPECT_EQ(o.launch.limits.cpu_max->quota, std::chrono::milliseconds(20));  // 20% of systemd's 100 ms period
  EXPECT_EQ(o.launch.limits.cpu_max->period, std::chrono::milliseconds(100));
  EXPECT_EQ(o.launch.limits.memory_high, 256u << 20);
  EXPECT_EQ(o.launch.limits.memory_max, 1u << 30);
  ASSERT_EQ(o.listen.size(), 3u);
  EXPECT_EQ(o.listen[0].to_string(), "tcp:127.0.0.1:8080");
  EXPECT_EQ(o.listen[1].to_string(), "unix:/run/web.sock");
  EXPECT_EQ(o.listen[2].to_string(), "tcp:9090");
  EXPECT_EQ(o.fdnames, std::vector<std::string>{"http"});
  EXPECT_EQ(u.unsupported, (std::vector<std::string>{"Service.ProtectSystem", "Socket.Backlog"}));
  ASSERT_TRUE(u.options.launch.credentials);  // User=nobody
  EXPECT_EQ(u.options.launch.credentials->uid, 65534u);
}

TEST(RunUnit, DefaultsAndInfinity) {
  UnitFile svc = parse("[Service]\nExecStart=/bin/true\nTimeoutStartSec=0\nRuntimeMaxSec=infinity\n", "t.service");
  UnitRunConfig u = unit_to_options(svc, nullptr);
  EXPECT_EQ(u.options.launch.ready.kind, launch::ProbeKind::kListen);  // Type=simple
  EXPECT_FALSE(u.options.lifecycle.ready_by_notify);
  EXPECT_FALSE(u.options.lifecycle.timeout_start.has_value());
  EXPECT_FALSE(u.options.lifecycle.runtime_max.has_value());
  EXPECT_FALSE(u.options.lifecycle.watchdog.has_value());
  EXPECT_EQ(u.options.lifecycle.restart, RestartPolicy::kNo);
  EXPECT_TRUE(u.options.listen.empty());
}

TEST(RunUnit, SocketNamesDefaultToTheSocketUnit) {
  UnitFile svc = parse("[Service]\nType=notify\nExecStart=/bin/true\n", "a.service");
  UnitFile sock = parse("[Socket]\nListenStream=[::1]:81\n", "a.socket");
  auto u = unit_to_options(svc, &sock);
  EXPECT_EQ(u.options.fdnames, std::vector<std::string>{"a.socket"});
  EXPECT_EQ(u.options.listen[0].to_string(), "tcp:[::1]:81");
}

TEST(RunUnit, WhatRunRefusesNamesThePosition) {
  auto refused = [](const std::string& text) -> std::string {
    try {
      unit_to_options(parse(text, "x.service"), nullptr);
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(refused("[Service]\nType=forking\nExecStart=/bin/true\n").rfind("x.service:2:", 0), 0u);
  EXPECT_NE(refused("[Service]\nExecStart=/bin/true\nTimeoutStartSec=ten\n").find("x.service:3:"), std::string::npos);
  EXPECT_NE(refused("[Service]\nExecStart=/bin/true\nRestart=on-abort\n").find("not supported"), std::string::npos);
  EXPECT_NE(refused("[Service]\nType=notify\n").find("no ExecStart="), std::string::npos);
  UnitFile sock = parse("[Socket]\nListenStream=80\nAccept=yes\n", "x.socket");
  EXPECT_THROW(unit_to_options(parse("[Service]\nExecStart=/bin/true\n", "x.service"), &sock), UserError);
}

TEST(RunUnit, EnvironmentFileBadLineIsAnError) {
  test::TempDir dir;
  write_file_atomic(dir.path() + "/env", "OK=1\nnot an assignment\n");
  EXPECT_THROW(read_environment_file(dir.path() + "/env"), UserError);
  EXPECT_THROW(read_environment_file(dir.path() + "/missing"), UserError);
}

}  // namespace
}  // namespace coldstart::supervise
