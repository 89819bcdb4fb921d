// The deployment files of the agent, as users run them: the systemd unit and
// the Kubernetes manifests pass `coldstart lint` without errors or warnings,
// the alert rules pass `promtool check rules`, and the DaemonSet asks for
// capabilities and read-only mounts instead of a privileged container.
#include <gtest/gtest.h>

#include "test_util.h"

namespace coldstart::test {
namespace {

TEST(WatchDeploy, UnitAndManifestsPassLint) {
  CommandResult r = run_shell(coldstart_binary() + " lint " + source_path("deploy/coldstart-watch.service") + " " +
                              source_path("deploy/kubernetes/daemonset.yaml") + " " +
                              source_path("deploy/kubernetes/service.yaml"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("0 errors, 0 warnings"), std::string::npos) << r.out;
}

TEST(WatchDeploy, AlertRulesPassPromtool) {
  if (::access("/usr/bin/promtool", X_OK) != 0) GTEST_FAIL() << "promtool missing: run scripts/setup";
  CommandResult r = run_shell("/usr/bin/promtool check rules " + source_path("deploy/kubernetes/alert-rules.yaml"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("SUCCESS"), std::string::npos) << r.out;
}

TEST(WatchDeploy, DaemonSetUsesCapabilitiesAndReadOnlyMounts) {
  std::string ds = read_text(source_path("deploy/kubernetes/daemonset.yaml"));
  EXPECT_NE(ds.find("hostPID: true"), std::string::npos);
  EXPECT_NE(ds.find("privileged: false"), std::string::npos);
  EXPECT_NE(ds.find("add: [\"BPF\", \"PERFMON\", \"SYS_RESOURCE\"]"), std::string::npos);
  EXPECT_NE(ds.find("mountPath: /sys/fs/cgroup\n              readOnly: true"), std::string::npos);
  EXPECT_NE(ds.find("mountPath: /sys/kernel/btf\n              readOnly: true"), std::string::npos);
  std::string unit = read_text(source_path("deploy/coldstart-watch.service"));
  EXPECT_NE(unit.find("AmbientCapabilities=CAP_BPF CAP_PERFMON"), std::string::npos);
}

}  // namespace
}  // namespace coldstart::test
