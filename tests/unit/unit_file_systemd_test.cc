// Our reading of a unit against systemd's own: systemd v252 loads the unit
// in test mode (`systemd --test --system --unit=X`, which refuses to run as
// root, so it runs as nobody) and dumps every parsed setting; the values we
// read must be the same, and systemd must warn about exactly the lines we
// record as problems. Skipped (with the reason) where systemd is absent.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "unit/unit_file_service.h"
#include "test_util.h"

namespace coldstart::unit {
namespace {

constexpr const char* kSystemd = "/usr/lib/systemd/systemd";

struct SystemdDump {
  std::multimap<std::string, std::string> settings;  // "Key" -> value, in the unit's block
  std::set<int> warned_lines;                          // lines of the unit file systemd warned about
};

SystemdDump systemd_dump(const std::string& dir, const std::string& name) {
  auto r = test::run_shell("SYSTEMD_UNIT_PATH=" + dir + ": setpriv --reuid=65534 --regid=65534 --clear-groups " +
                           kSystemd + " --test --system --unit=" + name + " --no-pager");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  SystemdDump d;
  std::istringstream out(r.out);
  bool in_unit = false;
  for (std::string line; std::getline(out, line);) {
    if (line.starts_with("\t-> Unit ")) in_unit = line == "\t-> Unit " + name + ":";
    if (!in_unit) continue;
    size_t colon = line.find(": ");
    size_t start = line.find_first_not_of('\t');
    if (colon == std::string::npos || start == std::string::npos) continue;
    d.settings.emplace(line.substr(start, colon - start), line.substr(colon + 2));
  }
  std::istringstream err(r.err);
  std::string prefix = dir + "/" + name + ":";
  for (std::string line; std::getline(err, line);)
    if (line.starts_with(prefix)) d.warned_lines.insert(std::atoi(line.c_str() + prefix.size()));
  return d;
}

std::string first(const SystemdDump& d, const std::string& key) {
  auto it = d.settings.find(key);
  return it == d.settings.end() ? "<missing>" : it->second;
}

TEST(UnitFileVsSystemd, EveryStartupSettingParsesToSystemdsValue) {
  if (access(kSystemd, X_OK) != 0 || access("/usr/bin/setpriv", X_OK) != 0)
    GTEST_SKIP() << "systemd or setpriv not installed: cannot compare with systemd's parser";
  test::TempDir dir;
  ::chmod(dir.path().c_str(), 0755);  // systemd runs as nobody
  std::string unit = dir.path() + "/every.service";
  std::ofstream(unit) << "[Unit]\n"
                         "Description=every start-up setting\n"
                         "[Service]\n"
                         "Type=simple\n"
                         "ExecStart=/bin/echo \"a b\" c\\x41 %n \\\n"
                         "  'single quoted'\n"
                         "Environment=\"X=1 2\" Y=3\n"
                         "Environment=\n"
                         "Environment=Z=%p W=\\x41\n"
                         "TimeoutSec=45\n"
                         "TimeoutStopSec=2min 5s\n"
                         "RuntimeMaxSec=1.5h\n"
                         "WatchdogSec=250ms\n"
                         "RestartSec=.5s\n"
                         "Restart=on-failure\n"
                         "NotifyAccess=all\n"
                         "CPUQuota=37.5%\n"
                         "MemoryMax=1G 512M\n"
                         "MemoryHigh=256M\n"
                         "TimeoutStartSec=ten\n"   // line 20: rejected
                         "MemoryHigh=1GB\n"        // line 21: rejected
                         "Restart=sometimes\n"     // line 22: rejected
                         "CPUQuota=0%\n";          // line 23: rejected
  std::filesystem::create_directories(dir.path() + "/every.service.d");
  ::chmod((dir.path() + "/every.service.d").c_str(), 0755);
  std::ofstream(dir.path() + "/every.service.d/50-type.conf") << "[Service]\nType=notify\n";
  for (const char* f : {"/every.service", "/every.service.d/50-type.conf"})
    ::chmod((dir.path() + f).c_str(), 0644);

  SystemdDump sd = systemd_dump(dir.path(), "every.service");
  ServiceConfig s = read_service(UnitFile::load(unit));

  EXPECT_EQ(first(sd, "Type"), s.type.value);
  EXPECT_EQ(first(sd, "Restart"), s.restart.value);
  EXPECT_EQ(first(sd, "NotifyAccess"), s.notify_access.value);
  EXPECT_EQ(first(sd, "TimeoutStartSec"), format_timespan(s.timeout_start_usec.value));
  EXPECT_EQ(first(sd, "TimeoutStopSec"), format_timespan(s.timeout_stop_usec.value));
  EXPECT_EQ(first(sd, "RuntimeMaxSec"), format_timespan(s.runtime_max_usec.value));
  EXPECT_EQ(first(sd, "WatchdogSec"), format_timespan(s.watchdog_usec.value));
  EXPECT_EQ(first(sd, "RestartSec"), format_timespan(s.restart_usec.value));
  EXPECT_EQ(first(sd, "CPUQuotaPerSecSec"), format_timespan(s.cpu_quota_usec_per_sec.value));
  EXPECT_EQ(first(sd, "MemoryMax"), std::to_string(s.memory_max.value.bytes));
  EXPECT_EQ(first(sd, "MemoryHigh"), std::to_string(s.memory_high.value.bytes));

  std::vector<std::string> env;
  for (auto [it, end] = sd.settings.equal_range("Environment"); it != end; ++it) env.push_back(it->second);
  std::vector<std::string> mine;
  for (const auto& [k, v] : s.environment.value) mine.push_back(k + "=" + v);
  EXPECT_EQ(env, mine);

  ASSERT_EQ(s.exec_start.value.size(), 1u);
  std::string command;
  for (const std::string& a : s.exec_start.value[0].argv)
    command += (command.empty() ? "" : " ") + (a.find(' ') != std::string::npos ? "\"" + a + "\"" : a);
  EXPECT_EQ(first(sd, "Command Line"), command);
  EXPECT_EQ(command, "/bin/echo \"a b\" cA every.service \"single quoted\"");

  std::set<int> ours;
  for (const UnitProblem& p : s.problems) ours.insert(p.pos.line);
  EXPECT_EQ(sd.warned_lines, ours);
  EXPECT_EQ(ours, (std::set<int>{20, 21, 22, 23}));
}

}  // namespace
}  // namespace coldstart::unit
