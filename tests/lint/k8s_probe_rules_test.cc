// The Kubernetes probe-window and CPU-request rules of issue 15 (cases 6
// and 7): what a start gets before the kubelet restarts the container, with
// and without measurements, and the millicore comparison of requests.cpu.
#include <gtest/gtest.h>

#include "lint/k8s_manifest.h"
#include "lint/lint.h"

namespace coldstart::lint {
namespace {

std::string deployment(const std::string& container_fields) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n"
         "      containers:\n      - name: web\n" +
         container_fields;
}

LintReport lint(const std::string& manifest, const LintContext& context = LintContext{}) {
  LintReport r;
  lint_workloads(read_manifests(manifest, "m.yaml"), context, r);
  return r;
}

LintContext measured(double p99) {
  LintContext c;
  c.bench = {MeasuredStart{"b.json", "/srv/web --port 80", "web", p99, 50}};
  return c;
}

// Case 7: periodSeconds 10, failureThreshold 3, no initialDelaySeconds and
// no startupProbe: the kubelet restarts a start slower than ~30 s.
TEST(LintK8sProbeRules, LivenessWithoutStartupProbeIsAlwaysReportedWithItsWindow) {
  std::string m = deployment("        livenessProbe:\n          httpGet: {path: /healthz, port: 8080}\n"
                             "          periodSeconds: 10\n          failureThreshold: 3\n");
  LintReport r = lint(m);
  ASSERT_EQ(r.findings.size(), 1u);
  const Finding& f = r.findings[0];
  EXPECT_EQ(f.rule, "k8s-liveness-without-startup-probe");
  EXPECT_EQ(f.severity, Severity::kWarning);
  EXPECT_EQ(f.message,
            "Deployment web, container 'web': livenessProbe without startupProbe: the kubelet restarts this "
            "container if its start takes over 30s (0s + 10s x 3)");
  EXPECT_EQ(f.pos.line, 9);
  EXPECT_EQ(f.hint, "add a startupProbe (same check) with periodSeconds: 10, failureThreshold: 12 (120s); the "
                    "livenessProbe then starts after it");
  // 60 s and more: a note; the measured p99 at or above the window: an error.
  LintReport wide = lint(deployment("        livenessProbe: {initialDelaySeconds: 30, periodSeconds: 10}\n"));
  ASSERT_EQ(wide.findings.size(), 1u);
  EXPECT_EQ(wide.findings[0].severity, Severity::kNote);
  LintReport slow = lint(m, measured(30.0));
  ASSERT_EQ(slow.findings.size(), 1u);
  EXPECT_EQ(slow.findings[0].severity, Severity::kError);
  EXPECT_NE(slow.findings[0].message.find("the measured p99 time-to-ready 30.000 s (b.json: 50 runs of '/srv/web "
                                          "--port 80') reaches it"),
            std::string::npos)
      << slow.findings[0].message;
  LintReport fast = lint(m, measured(0.8));
  ASSERT_EQ(fast.findings.size(), 1u);
  EXPECT_EQ(fast.findings[0].severity, Severity::kWarning);  // still only 30 s for a slow node
  LintContext assumed;
  assumed.assume_start = 45;
  EXPECT_EQ(lint(m, assumed).findings.at(0).severity, Severity::kError);
}

// Case 6 and the startupProbe rule: a 1-second startupProbe window is
// flagged; one that covers the measured p99 is not; one below it is an error.
TEST(LintK8sProbeRules, StartupProbeWindows) {
  LintReport one = lint(deployment("        startupProbe: {periodSeconds: 1, failureThreshold: 1}\n"
                                   "        livenessProbe: {periodSeconds: 10}\n"));
  ASSERT_EQ(one.findings.size(), 1u);
  EXPECT_EQ(one.findings[0].rule, "k8s-startup-probe-too-short");
  EXPECT_EQ(one.findings[0].severity, Severity::kWarning);
  EXPECT_NE(one.findings[0].message.find("gives a start only 1s (0s + 1s x 1)"), std::string::npos)
      << one.findings[0].message;
  std::string sixty = deployment("        startupProbe: {periodSeconds: 5, failureThreshold: 12}\n");
  EXPECT_TRUE(lint(sixty).findings.empty());
  EXPECT_TRUE(lint(sixty, measured(12)).findings.empty());
  LintReport short_of_p99 = lint(sixty, measured(75));
  ASSERT_EQ(short_of_p99.findings.size(), 1u);
  EXPECT_EQ(short_of_p99.findings[0].severity, Severity::kError);
  EXPECT_EQ(short_of_p99.findings[0].hint, "give the startupProbe periodSeconds: 5, failureThreshold: 45 (225s)");
  // A measured fast start makes a short startupProbe fine.
  EXPECT_TRUE(lint(deployment("        startupProbe: {periodSeconds: 2, failureThreshold: 5}\n"), measured(1.5))
                  .findings.empty());
}

// Case 6: 125m against a 500m limit is a quarter (millicores, as the
// scheduler counts): no finding, and the hint never asks for what is there.
TEST(LintK8sProbeRules, CpuRequestIsComparedInMillicores) {
  auto with = [](const std::string& request, const std::string& limit) {
    return deployment("        resources: {requests: {cpu: " + request + "}, limits: {cpu: " + limit +
                      "}}\n        env: [{name: GOMAXPROCS, value: \"1\"}]\n"
                      "        startupProbe: {periodSeconds: 10, failureThreshold: 3}\n");
  };
  auto cpu_findings = [](const LintReport& r) {
    std::vector<const Finding*> out;
    for (const Finding& f : r.findings)
      if (f.rule == "k8s-cpu-request-far-below-limit") out.push_back(&f);
    return out;
  };
  EXPECT_TRUE(cpu_findings(lint(with("125m", "500m"))).empty());
  EXPECT_TRUE(cpu_findings(lint(with("75m", "300m"))).empty());  // 0.3 / 0.075 is 4.000000000000001 in doubles
  EXPECT_TRUE(cpu_findings(lint(with("0.125", "0.5"))).empty());
  LintReport low = lint(with("100m", "500m"));
  auto f = cpu_findings(low);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0]->hint.find("raise requests.cpu to at least 125m"), std::string::npos) << f[0]->hint;
  EXPECT_NE(f[0]->message.find("is 1/5 of limits.cpu=500m"), std::string::npos) << f[0]->message;
}

}  // namespace
}  // namespace coldstart::lint
