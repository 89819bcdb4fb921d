// Every file of the corpus (tests/lint/data/units, tests/lint/data/k8s)
// names in its "# expect:" line exactly the rules that must fire on it; the
// correct variants expect none. Units run against the real fixture binaries
// (noop-static speaks no systemd protocol, go-user-service-* speak
// NOTIFY_SOCKET and LISTEN_FDS; the Go ones are go1.19).
#include <gtest/gtest.h>

#include <filesystem>

#include <set>
#include <sstream>

#include "lint/lint.h"
#include "lint/rules.h"
#include "lint_testing.h"

namespace coldstart::lint {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> corpus_files() {
  std::vector<std::string> out;
  for (const char* sub : {"units", "k8s"}) {
    for (const auto& e : fs::directory_iterator(test::source_path("tests/lint/data/") + sub)) {
      std::string ext = e.path().extension().string();
      std::string name = e.path().filename().string();
      if (!e.is_regular_file() || name.starts_with("bad-")) continue;
      if (ext == ".service" || ext == ".socket" || ext == ".yaml") out.push_back(std::string(sub) + "/" + name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class Corpus : public ::testing::TestWithParam<std::string> {};

TEST_P(Corpus, FiresExactlyTheExpectedRules) {
  test::TempDir dir;
  std::string sub = GetParam().substr(0, GetParam().find('/'));
  std::string root = test::materialize_corpus(dir, sub);
  std::string file = root + GetParam().substr(sub.size());
  LintContext context;
  context.host_cpus = 64;
  auto bench = test::header_words(file, "bench");
  if (bench != std::vector<std::string>{"<no header>"}) {
    context.bench = read_bench_results(root + "/" + bench.at(0));
  }
  LintReport report = lint_paths({file}, context);
  std::vector<std::string> fired;
  std::string details;
  for (const Finding& f : report.findings) {
    fired.push_back(f.rule);
    details += unit::to_string(f.pos) + ": " + f.message + " [" + f.rule + "]\n";
    EXPECT_FALSE(f.hint.empty()) << f.rule;
    EXPECT_GT(f.pos.line, 0);
    EXPECT_GT(f.pos.column, 0);
  }
  std::sort(fired.begin(), fired.end());
  EXPECT_EQ(fired, test::header_words(file, "expect")) << details;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n;
  for (char c : info.param) n.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Lint, Corpus, ::testing::ValuesIn(corpus_files()), test_name);

TEST(CorpusCoverage, EveryRuleFiresSomewhereAndEveryRuleHasACorrectVariant) {
  // Each rule id appears in some "# expect:" line; files expecting nothing exist
  // for units and manifests alike.
  std::set<std::string> expected;
  size_t clean_units = 0, clean_k8s = 0;
  for (const std::string& f : corpus_files()) {
    auto words = test::header_words(test::source_path("tests/lint/data/" + f), "expect");
    expected.insert(words.begin(), words.end());
    if (words.empty()) (f.starts_with("units") ? clean_units : clean_k8s)++;
  }
  // The real files' expectations count too (script-not-checked, unit-masked
  // are shown on Debian's own units, tests/lint/data/real/EXPECT).
  std::istringstream real(test::read_text(test::source_path("tests/lint/data/real/EXPECT")));
  for (std::string line; std::getline(real, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) expected.insert(w);
  }
  for (const RuleInfo& r : rules()) EXPECT_TRUE(expected.count(std::string(r.id))) << r.id << " never fires";
  EXPECT_GE(clean_units, 8u);
  EXPECT_GE(clean_k8s, 2u);
}

}  // namespace
}  // namespace coldstart::lint

namespace coldstart::lint {
namespace {

TEST(LintDocs, RulesTableNamesEveryRuleWithItsSeverity) {
  std::string doc = test::read_text(test::source_path("docs/lint.md"));
  for (const RuleInfo& r : rules()) {
    std::string row = "| `" + std::string(r.id) + "` | " + std::string(r.kind) + " | " +
                      std::string(severity_name(r.severity)) + " |";
    EXPECT_NE(doc.find(row), std::string::npos) << row;
  }
}

}  // namespace
}  // namespace coldstart::lint
