// End-to-end behaviour of `coldstart lint`: exit 1 on an error-level finding
// (a Type=notify unit whose ExecStart= is the no-op fixture), 0 on a clean or
// warnings-only run, 2 with a position for unparsable input and with one line
// for unreadable input; --format json/sarif; --bench.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace coldstart {
namespace {

std::string cs() { return test::coldstart_binary(); }

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(CliLint, NotifyUnitOnTheNoopBinaryIsAnErrorExit1) {
  test::TempDir dir;
  std::string unit = dir.path() + "/web.service";
  write(unit, "[Service]\nType=notify\nExecStart=" + test::fixture("noop-static") + "\n");
  auto r = test::run_shell(cs() + " lint " + unit);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find(unit + ":2:6: error: Type=notify, but "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[notify-without-support]"), std::string::npos);
  EXPECT_NE(r.out.find("1 error, 0 warnings, 0 notes in 1 file"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST(CliLint, CleanUnitExits0AndWarningsDoNotFail) {
  test::TempDir dir;
  std::string ok = dir.path() + "/ok.service", warn = dir.path() + "/warn.service";
  write(ok, "[Service]\nType=notify\nExecStart=" + test::fixture("go-user-service-static") + "\n");
  write(warn, "[Service]\nType=notify\nExecStart=" + test::fixture("go-user-service-static") +
                  "\nRuntimeMaxSec=30s\n");
  auto clean = test::run_shell(cs() + " lint " + ok);
  EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  EXPECT_EQ(clean.out, "0 errors, 0 warnings, 0 notes in 1 file\n");
  auto w = test::run_shell(cs() + " lint " + warn);
  EXPECT_EQ(w.exit_code, 0) << w.out;
  EXPECT_NE(w.out.find("warning: RuntimeMaxSec=30s"), std::string::npos) << w.out;
}

TEST(CliLint, GoServiceUnderCpuQuotaGetsTheGomaxprocsValue) {
  test::TempDir dir;
  std::string unit = dir.path() + "/go.service";
  write(unit, "[Service]\nType=notify\nExecStart=" + test::fixture("go-user-service-cgo") + "\nCPUQuota=250%\n");
  auto r = test::run_shell(cs() + " lint --format json " + unit);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["findings"].size(), 1u) << r.out;
  EXPECT_EQ(j["findings"][0]["rule"], "go-cpu-quota-without-gomaxprocs");
  EXPECT_EQ(j["findings"][0]["line"], 4);
  EXPECT_NE(j["findings"][0]["message"].get<std::string>().find("GOMAXPROCS should be 2"), std::string::npos);
  EXPECT_EQ(j["findings"][0]["hint"], "add Environment=GOMAXPROCS=2 (or build with Go >= 1.25)");
}

TEST(CliLint, BenchP99AboveTimeoutStartSec) {
  test::TempDir dir;
  std::string unit = dir.path() + "/go.service", bench = dir.path() + "/bench.json";
  write(unit, "[Service]\nType=notify\nExecStart=" + test::fixture("go-user-service-static") +
                  "\nTimeoutStartSec=2ms\n");
  write(bench, R"({"results":[{"command":")" + test::fixture("go-user-service-static") +
                   R"(","times":[0.0015,0.0016,0.0017,0.0030]}]})");
  auto r = test::run_shell(cs() + " lint --bench " + bench + " " + unit);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("[timeout-start-below-p99]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 runs"), std::string::npos) << r.out;
}

TEST(CliLint, SarifOutputIsOneJsonDocument) {
  test::TempDir dir;
  std::string yaml = dir.path() + "/pod.yaml";
  write(yaml, "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      ports: [{containerPort: 80}]\n");
  auto r = test::run_shell("cd " + dir.path() + " && " + cs() + " lint --format sarif pod.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto s = nlohmann::json::parse(r.out);
  EXPECT_EQ(s["version"], "2.1.0");
  const auto& res = s["runs"][0]["results"];
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0]["ruleId"], "k8s-no-readiness-probe");
  EXPECT_EQ(res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "pod.yaml");
  EXPECT_EQ(res[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 5);
}

TEST(CliLint, UnparsableInputIsExit2WithThePosition) {
  test::TempDir dir;
  std::string unit = dir.path() + "/bad.service", yaml = dir.path() + "/bad.yaml";
  write(unit, "[Unit]\nDescription=x\n[Service\nType=simple\n");
  write(yaml, "kind: Pod\nspec: {containers: [\n");
  auto u = test::run_shell(cs() + " lint " + unit);
  EXPECT_EQ(u.exit_code, 2);
  EXPECT_EQ(u.err, "coldstart: error: " + unit + ":3:1: invalid section header '[Service'\n");
  EXPECT_EQ(u.out, unit + ":3:1: error: not checked: invalid section header '[Service' [not-checked]\n"
                   "0 errors, 0 warnings, 0 notes in 0 files; 1 file could not be checked\n");
  auto y = test::run_shell(cs() + " lint --format sarif " + yaml);
  EXPECT_EQ(y.exit_code, 2);
  EXPECT_TRUE(y.err.starts_with("coldstart: error: " + yaml + ":")) << y.err;
  EXPECT_EQ(std::count(y.err.begin(), y.err.end(), '\n'), 1) << y.err;
  auto sarif = nlohmann::json::parse(y.out);
  EXPECT_EQ(sarif["runs"][0]["invocations"][0]["executionSuccessful"], false);
}

// Issue 15, case 2: one bad file among good ones loses no finding; every
// format names the bad file with its position; exit 2 at the end.
TEST(CliLint, ABadFileInABatchIsReportedAndTheOthersAreLinted) {
  test::TempDir dir;
  std::string bad = dir.path() + "/bad.yaml", notify = dir.path() + "/web.service", pod = dir.path() + "/pod.yaml";
  write(bad, "kind: Pod\nspec:\n  containers: [\n");
  write(notify, "[Service]\nType=notify\nExecStart=" + test::fixture("noop-static") + "\n");
  write(pod, "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      ports: [{containerPort: 80}]\n");
  std::string files = " " + notify + " " + bad + " " + pod + " /nonexistent/x.service";
  auto text = test::run_shell(cs() + " lint" + files);
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_NE(text.out.find("[notify-without-support]"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("[k8s-no-readiness-probe]"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(bad + ":4:1: error: not checked: YAML: "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("/nonexistent/x.service: error: not checked: open /nonexistent/x.service: No such file"),
            std::string::npos) << text.out;
  EXPECT_NE(text.out.find("in 2 files; 2 files could not be checked\n"), std::string::npos) << text.out;
  EXPECT_EQ(text.err.substr(0, 60), ("coldstart: error: 2 files could not be checked; the first: " + bad).substr(0, 60));
  EXPECT_EQ(std::count(text.err.begin(), text.err.end(), '\n'), 1) << text.err;

  auto json = test::run_shell(cs() + " lint --format json" + files);
  EXPECT_EQ(json.exit_code, 2);
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["findings"].size(), 2u) << json.out;
  ASSERT_EQ(j["not_checked"].size(), 2u);
  EXPECT_EQ(j["not_checked"][0]["file"], bad);
  EXPECT_EQ(j["not_checked"][0]["line"], 4);

  auto sarif = test::run_shell("cd " + dir.path() + " && " + cs() + " lint --format sarif" + files);
  EXPECT_EQ(sarif.exit_code, 2);
  auto s = nlohmann::json::parse(sarif.out);
  EXPECT_EQ(s["runs"][0]["results"].size(), 2u);
  const auto& inv = s["runs"][0]["invocations"][0];
  EXPECT_EQ(inv["executionSuccessful"], false);
  ASSERT_EQ(inv["toolExecutionNotifications"].size(), 2u);
  const auto& n = inv["toolExecutionNotifications"][0];
  EXPECT_EQ(n["level"], "error");
  EXPECT_EQ(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "bad.yaml");
  EXPECT_EQ(n["locations"][0]["physicalLocation"]["region"]["startLine"], 4);
}

TEST(CliLint, UnreadableFileAndBadOptionsAreExit2) {
  auto missing = test::run_shell(cs() + " lint /nonexistent/x.service");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "coldstart: error: /nonexistent/x.service: open /nonexistent/x.service: No such file or directory\n");
  test::TempDir empty;
  auto dir = test::run_shell(cs() + " lint " + empty.path());
  EXPECT_EQ(dir.exit_code, 2);
  EXPECT_EQ(std::count(dir.err.begin(), dir.err.end(), '\n'), 1) << dir.err;
  EXPECT_NE(dir.err.find("a directory without unit files or manifests"), std::string::npos) << dir.err;
  auto format = test::run_shell(cs() + " lint --format xml /dev/null");
  EXPECT_EQ(format.exit_code, 2);
  auto none = test::run_shell(cs() + " lint");
  EXPECT_EQ(none.exit_code, 2);
  auto size = test::run_shell(cs() + " lint --max-size lots /dev/null");
  EXPECT_EQ(size.exit_code, 2);
  EXPECT_EQ(size.err, "coldstart: error: --max-size: 'lots' is not a size (bytes, or with K/M/G)\n");
}

// Issue 15, case 3: a size limit with a clear error, the other files linted.
TEST(CliLint, FilesOverTheSizeLimitAreNotCheckedWithAClearError) {
  test::TempDir dir;
  std::string big = dir.path() + "/big.yaml", ok = dir.path() + "/ok.yaml";
  write(big, "kind: ConfigMap\ndata:\n  blob: |\n    " + std::string(3000, 'x') + "\n");
  write(ok, "kind: Pod\nspec:\n  containers: [{name: c}]\n");
  auto r = test::run_shell(cs() + " lint --max-size 2K " + big + " " + ok);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "coldstart: error: " + big + ": 3037 bytes is more than the 2048 bytes limit (--max-size)\n");
  EXPECT_NE(r.out.find("in 1 file; 1 file could not be checked"), std::string::npos) << r.out;
  EXPECT_EQ(test::run_shell(cs() + " lint --max-size 1M " + big + " " + ok).exit_code, 0);
}

// Issue 15, case 6: --bench may be given once per file; results are merged.
TEST(CliLint, SeveralBenchFilesAreMerged) {
  test::TempDir dir;
  std::string pod = dir.path() + "/pod.yaml", a = dir.path() + "/a.json", b = dir.path() + "/b.json";
  write(pod, "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
             "    - {name: web, startupProbe: {periodSeconds: 10, failureThreshold: 12}}\n"
             "    - {name: api, startupProbe: {periodSeconds: 10, failureThreshold: 12}}\n");
  write(a, R"({"results":[{"command":"/srv/web","times":[1.0,1.1]}]})");
  write(b, R"({"results":[{"command":"/srv/api","times":[150.0,151.0]}]})");
  auto r = test::run_shell(cs() + " lint --bench " + a + " --bench " + b + " " + pod);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("container 'api': the startupProbe gives a start 120s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(b + ": 2 runs of '/srv/api'"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("container 'web'"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace coldstart
