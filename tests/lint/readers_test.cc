// The Kubernetes reader (positions, kinds, defaults, errors with positions),
// quantities, the bench reader, and the unit rules with a fake binary probe
// for the cases no fixture binary shows (Go >= 1.25, libsystemd, watchdog).
#include <gtest/gtest.h>

#include <fstream>

#include "lint/k8s_manifest.h"
#include "lint/lint.h"
#include "lint_testing.h"
#include "unit/unit_file_service.h"

namespace coldstart::lint {
namespace {

TEST(K8sManifest, ContainersProbesResourcesWithPositions) {
  auto w = read_manifests(
      "kind: Service\n"
      "metadata: {name: s}\n"
      "---\n"
      "apiVersion: apps/v1\n"
      "kind: Deployment\n"
      "metadata:\n"
      "  name: users\n"
      "spec:\n"
      "  template:\n"
      "    spec:\n"
      "      initContainers:\n"
      "        - name: init\n"
      "      containers:\n"
      "        - name: app\n"
      "          ports: [{containerPort: 80}]\n"
      "          livenessProbe:\n"
      "            periodSeconds: 3\n"
      "          resources:\n"
      "            limits: {cpu: 250m, memory: 1Gi}\n"
      "          env:\n"
      "            - name: GOMAXPROCS\n"
      "              value: \"1\"\n",
      "m.yaml");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].kind, "Deployment");
  EXPECT_EQ(w[0].name, "users");
  EXPECT_EQ(unit::to_string(w[0].pos), "m.yaml:5:1");
  ASSERT_EQ(w[0].containers.size(), 2u);
  EXPECT_TRUE(w[0].containers[0].init);
  const K8sContainer& c = w[0].containers[1];
  EXPECT_EQ(c.name, "app");
  EXPECT_TRUE(c.has_ports);
  ASSERT_TRUE(c.liveness);
  EXPECT_EQ(c.liveness->window(), 9);  // 0 + 3 x 3 (default failureThreshold)
  EXPECT_EQ(unit::to_string(c.liveness->pos), "m.yaml:16:11");
  EXPECT_DOUBLE_EQ(c.cpu_limit->value, 0.25);
  EXPECT_EQ(unit::to_string(c.cpu_limit->pos), "m.yaml:19:27");
  EXPECT_DOUBLE_EQ(c.memory_limit->value, 1073741824.0);
  EXPECT_TRUE(c.env_has("GOMAXPROCS"));
  EXPECT_FALSE(c.readiness);
}

TEST(K8sManifest, CronJobAndEmptyDocuments) {
  auto w = read_manifests(
      "---\n---\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
      "          containers: [{name: c}]\n",
      "c.yaml");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].containers.at(0).name, "c");
}

TEST(K8sManifest, SyntaxAndTypeErrorsHavePositions) {
  test::TempDir dir;
  std::string k8s = test::materialize_corpus(dir, "k8s");
  for (auto [file, where] : {std::pair<const char*, const char*>{"bad-syntax.yaml", ":9:1:"},
                             std::pair<const char*, const char*>{"bad-type.yaml", ":9:24"}}) {
    std::string path = k8s + "/" + file;
    try {
      read_manifests(test::read_text(path), path);
      ADD_FAILURE() << file << " parsed";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path + where), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(read_manifests("kind: Pod\nspec:\n  containers: {a: b}\n", "x.yaml"), InputError);
  EXPECT_THROW(read_manifests("[1, 2]\n", "x.yaml"), InputError);
  EXPECT_THROW(read_manifests("kind: Pod\nspec:\n  containers:\n    - resources: {limits: {cpu: lots}}\n", "x.yaml"),
               InputError);
}

// Aliases share nodes, so a small file can stand for billions of entries, or
// for an infinite List (an anchor holding its own alias): a positioned error,
// quickly, never a hang or a stack overflow.
TEST(K8sManifest, AliasBombsAndCyclesAreErrorsNotHangs) {
  std::string bomb = "kind: List\nitems:\n- &a {kind: Pod, spec: {containers: [{name: c}]}}\n";
  std::string prev = "a";
  for (int level = 0; level < 9; ++level) {
    std::string name = "l" + std::to_string(level);
    bomb += "- &" + name + " {kind: List, items: [";
    for (int i = 0; i < 9; ++i) bomb += (i ? ", *" : "*") + prev;
    bomb += "]}\n";
    prev = name;
  }
  try {
    read_manifests(bomb, "bomb.yaml");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("YAML aliases"), std::string::npos) << e.what();
  }
  std::string deep = "kind: List\nitems:\n";
  for (int i = 0; i < 12; ++i) deep += std::string(2 * i, ' ') + "- kind: List\n" + std::string(2 * i + 2, ' ') + "items:\n";
  EXPECT_THROW(read_manifests(deep, "deep.yaml"), InputError);
  // yaml-cpp resolves an alias inside its own anchor to a cycle, or rejects it: either way an error.
  EXPECT_THROW(read_manifests("&a {kind: List, items: [*a]}\n", "cycle.yaml"), InputError);
}

// The alias budget grows with the input: a container with 110,000 env
// entries written out (1.2 MB, as a generated manifest can have) is no alias
// bomb; the fixed budget of 100,000 entries refused such files.
TEST(K8sManifest, ALargeFileIsNotMistakenForAnAliasBomb) {
  std::string pod = "kind: Pod\nspec:\n  containers:\n  - name: c\n    env:\n";
  for (int i = 0; i < 110000; ++i) pod += "    - name: V\n";
  auto w = read_manifests(pod, "big.yaml");
  EXPECT_EQ(w.at(0).containers.at(0).env_names.size(), 110000u);
}

TEST(K8sManifest, Quantities) {
  EXPECT_DOUBLE_EQ(*parse_quantity("500m"), 0.5);
  EXPECT_DOUBLE_EQ(*parse_quantity("2"), 2);
  EXPECT_DOUBLE_EQ(*parse_quantity("1.5"), 1.5);
  EXPECT_DOUBLE_EQ(*parse_quantity("512Mi"), 512.0 * 1048576);
  EXPECT_DOUBLE_EQ(*parse_quantity("128M"), 128e6);
  EXPECT_DOUBLE_EQ(*parse_quantity("1e3"), 1000);
  EXPECT_DOUBLE_EQ(*parse_quantity("1E"), 1e18);
  for (const char* bad : {"", "m", "1.5.5", "12Q", "1e", "Mi", "1 Gi"}) EXPECT_FALSE(parse_quantity(bad)) << bad;
  // Beyond int64, as the API server; found by fuzz_lint_k8s_yaml (a float to
  // integer conversion overflowed in the GOMEMLIMIT hint).
  for (const char* huge : {"1e40", "10Ei", "-1e19"}) EXPECT_FALSE(parse_quantity(huge)) << huge;
  EXPECT_THROW(read_manifests("kind: Pod\nspec:\n  containers:\n    - resources: {limits: {memory: 1e40}}\n", "x.yaml"),
               InputError);
  EXPECT_THROW(read_manifests("kind: Pod\nspec:\n  containers:\n    - resources: {limits: {memory: -1Gi}}\n", "x.yaml"),
               InputError);
}

TEST(BenchResults, P99FromTimesOrGiven) {
  test::TempDir dir;
  std::string f = dir.path() + "/b.json";
  std::ofstream(f) << R"({"results":[{"command":"/x/svc --a","times":[1,2,3,4,5,6,7,8,9,10]},)"
                   << R"({"command":"other","times":[1],"p99":0.5}]})";
  auto r = read_bench_results(f);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].program, "svc");
  EXPECT_NEAR(r[0].p99, 9.91, 1e-9);
  EXPECT_EQ(r[0].runs, 10u);
  EXPECT_DOUBLE_EQ(r[1].p99, 0.5);
  EXPECT_EQ(measured_start_for(r, "/usr/bin/svc")->command, "/x/svc --a");
  EXPECT_FALSE(measured_start_for(r, "/usr/bin/nothing"));
  std::ofstream(f) << "{\"results\": [{\"times\": []}]}";
  EXPECT_THROW(read_bench_results(f), UserError);
  std::ofstream(f) << "not json";
  EXPECT_THROW(read_bench_results(f), UserError);
  EXPECT_THROW(read_bench_results(dir.path() + "/missing.json"), UserError);
}

// Unit rules against a fake binary.
std::vector<std::string> rules_with(const std::string& unit_text, BinaryFacts facts) {
  unit::UnitFile u;
  u.parse(unit_text, "/nonexistent/svc.service");
  LintContext context;
  context.host_cpus = 32;
  context.probe = [facts](const std::string& path) -> Result<BinaryFacts> {
    BinaryFacts f = facts;
    f.path = path;
    return f;
  };
  LintReport report;
  lint_unit(u, context, report);
  std::vector<std::string> out;
  for (const Finding& f : report.findings) out.push_back(f.rule);
  return out;
}

TEST(UnitRulesWithFakes, GoVersionDecidesTheGomaxprocsRule) {
  std::string unit = "[Service]\nType=exec\nExecStart=/bin/svc\nCPUQuota=50%\n";
  BinaryFacts old_go, new_go;
  old_go.is_go = new_go.is_go = true;
  old_go.go_version = "go1.24.3";
  new_go.go_version = "go1.25.0";
  EXPECT_EQ(rules_with(unit, old_go), std::vector<std::string>{"go-cpu-quota-without-gomaxprocs"});
  EXPECT_TRUE(rules_with(unit, new_go).empty());
}

TEST(UnitRulesWithFakes, LibsystemdCountsAsSpeakingTheProtocols) {
  BinaryFacts lib;
  lib.speaks_notify = lib.speaks_listen_fds = lib.speaks_watchdog = lib.sends_ready = true;
  lib.notify_evidence = "needs libsystemd.so.0, which has a NOTIFY_SOCKET string";
  EXPECT_TRUE(rules_with("[Service]\nType=notify\nExecStart=/bin/svc\nWatchdogSec=5\n", lib).empty());
  EXPECT_EQ(rules_with("[Service]\nType=notify\nExecStart=/bin/svc\nWatchdogSec=5\n", BinaryFacts{}),
            (std::vector<std::string>{"notify-without-support", "watchdog-without-support"}));
  EXPECT_EQ(rules_with("[Service]\nExecStart=/bin/svc\n", lib), std::vector<std::string>{"simple-but-notifies"});
}

TEST(UnitRulesWithFakes, GomemlimitInAnEnvironmentFileCounts) {
  test::TempDir dir;
  std::string env = dir.path() + "/env";
  std::ofstream(env) << "# comment\nexport GOMEMLIMIT=100MiB\n";
  BinaryFacts go;
  go.is_go = true;
  go.go_version = "go1.21.0";
  std::string base = "[Service]\nType=exec\nExecStart=/bin/svc\nMemoryMax=128M\n";
  EXPECT_EQ(rules_with(base, go), std::vector<std::string>{"go-memory-limit-without-gomemlimit"});
  EXPECT_TRUE(rules_with(base + "EnvironmentFile=" + env + "\n", go).empty());
  // An unreadable (non-optional) EnvironmentFile: we cannot tell, so no finding.
  EXPECT_TRUE(rules_with(base + "EnvironmentFile=/nonexistent/env\n", go).empty());
  EXPECT_EQ(rules_with(base + "EnvironmentFile=-/nonexistent/env\n", go).size(), 1u);
}

TEST(K8sRulesWithBench, MeasuredP99DecidesTheSeverity) {
  auto w = read_manifests(
      "kind: Pod\nspec:\n  containers:\n    - name: svc\n      livenessProbe: {periodSeconds: 10}\n", "p.yaml");
  LintContext context;
  LintReport unmeasured;
  lint_workloads(w, context, unmeasured);  // 30 s window, nothing measured: a warning
  ASSERT_EQ(unmeasured.findings.size(), 1u);
  EXPECT_EQ(unmeasured.findings[0].severity, Severity::kWarning);
  context.bench = {MeasuredStart{"b.json", "/x/svc", "svc", 45.0, 20}};
  LintReport loud;
  lint_workloads(w, context, loud);
  ASSERT_EQ(loud.findings.size(), 1u);
  EXPECT_EQ(loud.findings[0].rule, "k8s-liveness-without-startup-probe");
  EXPECT_EQ(loud.findings[0].severity, Severity::kError);
  EXPECT_NE(loud.findings[0].message.find("measured p99"), std::string::npos) << loud.findings[0].message;
  EXPECT_NE(loud.findings[0].message.find("b.json: 20 runs"), std::string::npos) << loud.findings[0].message;
}

}  // namespace
}  // namespace coldstart::lint

namespace coldstart::lint {
namespace {

// systemd-logind.service has BusName= and no Type=: systemd runs it as
// Type=dbus, so lint must not call it Type=simple (issue 15, case 5).
TEST(LintUnitReader, BusNameWithoutTypeIsDbus) {
  auto unit = unit::UnitFile::load(test::source_path("tests/lint/data/real/units/systemd-logind.service"));
  unit::ServiceConfig s = unit::read_service(unit, 1ull << 30);
  EXPECT_EQ(s.type.value, "dbus");
  EXPECT_FALSE(s.type.is_set());
  EXPECT_EQ(s.bus_name.value, "org.freedesktop.login1");
  unit::UnitFile plain;
  plain.parse("[Service]\nExecStart=/bin/true\n", "p.service");
  EXPECT_EQ(unit::read_service(plain, 1ull << 30).type.value, "simple");
}

}  // namespace
}  // namespace coldstart::lint
