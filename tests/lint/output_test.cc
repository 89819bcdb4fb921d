// The three renderings of a LintReport. SARIF is validated twice: against
// the SARIF 2.1.0 JSON schema (tests/lint/data/sarif-schema-2.1.0.json, by
// Debian's python3-jsonschema) and against what GitHub code scanning needs
// from an upload (checked property by property below).
#include "lint/output.h"

#include <gtest/gtest.h>

#include <fstream>

#include "lint/lint.h"
#include "lint/rules.h"
#include "lint_testing.h"

namespace coldstart::lint {
namespace {

LintReport corpus_report(const test::TempDir& dir) {
  std::string root = test::materialize_corpus(dir, "units");
  std::string k8s = test::materialize_corpus(dir, "k8s");
  LintContext context;
  context.host_cpus = 8;
  return lint_paths({root + "/notify-noop.service", root + "/go-quota.service", root + "/invalid-values.service",
                     root + "/missing-binary.service", k8s + "/go-limits.yaml", k8s + "/liveness-tight.yaml"},
                    context);
}

TEST(LintOutput, TextIsCompilerStyleWithFixLines) {
  test::TempDir dir;
  LintReport r = corpus_report(dir);
  std::string text = format_text(r);
  std::string first = dir.path() + "/units/notify-noop.service:4:6: error: Type=notify, but ";
  EXPECT_EQ(text.substr(0, first.size()), first) << text;
  EXPECT_NE(text.find("[notify-without-support]\n  fix: use Type=exec"), std::string::npos) << text;
  EXPECT_NE(text.find("go-quota.service:5:10: warning: CPUQuota=150% allows 1.50 CPUs"), std::string::npos) << text;
  EXPECT_NE(text.find("GOMAXPROCS should be 1 [go-cpu-quota-without-gomaxprocs]"), std::string::npos) << text;
  EXPECT_NE(text.find(": note: "), std::string::npos);
  EXPECT_TRUE(text.ends_with(" in 6 files\n")) << text;
}

TEST(LintOutput, JsonCarriesEveryField) {
  test::TempDir dir;
  LintReport r = corpus_report(dir);
  nlohmann::json j = to_json(r);
  ASSERT_EQ(j["findings"].size(), r.findings.size());
  const auto& f = j["findings"][0];
  EXPECT_EQ(f["rule"], "notify-without-support");
  EXPECT_EQ(f["severity"], "error");
  EXPECT_EQ(f["line"], 4);
  EXPECT_EQ(f["column"], 6);
  EXPECT_FALSE(f["hint"].get<std::string>().empty());
  EXPECT_GT(j["errors"].get<int>(), 0);
  EXPECT_EQ(j["files"].size(), 6u);
}

TEST(LintOutput, SarifValidatesAgainstTheSarif210Schema) {
  test::TempDir dir;
  LintReport r = corpus_report(dir);
  std::string out = dir.path() + "/lint.sarif";
  std::ofstream(out) << to_sarif(r, dir.path()).dump(2);
  ASSERT_EQ(access("/usr/bin/python3", X_OK), 0);
  std::string validate =
      "/usr/bin/python3 -c 'import json, sys, jsonschema\n"
      "schema = json.load(open(sys.argv[1]))\n"
      "cls = jsonschema.validators.validator_for(schema)\n"
      "cls.check_schema(schema)\n"
      "errors = list(cls(schema).iter_errors(json.load(open(sys.argv[2]))))\n"
      "[print(e.message, list(e.path)) for e in errors]\n"
      "sys.exit(1 if errors else 0)' " +
      test::source_path("tests/lint/data/sarif-schema-2.1.0.json") + " " + out;
  auto v = test::run_shell(validate);
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  // The validator must be able to fail: a level SARIF does not define is rejected.
  nlohmann::json broken = to_sarif(r, dir.path());
  broken["runs"][0]["results"][0]["level"] = "fatal";
  std::ofstream(out) << broken.dump();
  EXPECT_EQ(test::run_shell(validate).exit_code, 1);
}

TEST(LintOutput, SarifHasWhatGitHubCodeScanningRequires) {
  test::TempDir dir;
  LintReport r = corpus_report(dir);
  nlohmann::json s = to_sarif(r, dir.path());
  EXPECT_EQ(s["version"], "2.1.0");
  EXPECT_TRUE(s["$schema"].get<std::string>().starts_with("https://"));
  ASSERT_EQ(s["runs"].size(), 1u);
  const auto& run = s["runs"][0];
  const auto& driver = run["tool"]["driver"];
  EXPECT_EQ(driver["name"], "coldstart");
  EXPECT_TRUE(driver["informationUri"].get<std::string>().starts_with("https://"));
  ASSERT_EQ(driver["rules"].size(), rules().size());
  for (const auto& rule : driver["rules"]) {
    EXPECT_FALSE(rule["id"].get<std::string>().empty());
    EXPECT_FALSE(rule["shortDescription"]["text"].get<std::string>().empty());
    EXPECT_FALSE(rule["help"]["text"].get<std::string>().empty());
    std::string level = rule["defaultConfiguration"]["level"];
    EXPECT_TRUE(level == "note" || level == "warning" || level == "error") << level;
  }
  EXPECT_TRUE(run["originalUriBaseIds"]["SRCROOT"]["uri"].get<std::string>().ends_with("/"));
  ASSERT_EQ(run["results"].size(), r.findings.size());
  for (const auto& res : run["results"]) {
    size_t index = res["ruleIndex"];
    ASSERT_LT(index, driver["rules"].size());
    EXPECT_EQ(driver["rules"][index]["id"], res["ruleId"]);
    EXPECT_FALSE(res["message"]["text"].get<std::string>().empty());
    ASSERT_EQ(res["locations"].size(), 1u);
    const auto& loc = res["locations"][0]["physicalLocation"];
    std::string uri = loc["artifactLocation"]["uri"];
    // Relative to the checkout (GitHub maps it onto the repository's files).
    EXPECT_FALSE(uri.starts_with("/")) << uri;
    EXPECT_TRUE(uri.starts_with("units/") || uri.starts_with("k8s/")) << uri;
    EXPECT_EQ(loc["artifactLocation"]["uriBaseId"], "SRCROOT");
    EXPECT_GE(loc["region"]["startLine"].get<int>(), 1);
    EXPECT_GE(loc["region"]["startColumn"].get<int>(), 1);
  }
}

TEST(LintOutput, SarifUrisOutsideTheBaseAreAbsoluteAndEncoded) {
  LintReport r;
  r.files = {"/tmp/a b/x.service"};
  r.findings.push_back({"invalid-value", Severity::kError, "m", "h", {"/tmp/a b/x.service", 3, 4}});
  nlohmann::json s = to_sarif(r, "/work/nowhere");
  const auto& art = s["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
  EXPECT_EQ(art["uri"], "file:///tmp/a%20b/x.service");
  EXPECT_FALSE(art.contains("uriBaseId"));
}

}  // namespace
}  // namespace coldstart::lint
