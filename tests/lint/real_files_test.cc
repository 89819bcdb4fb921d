// lint on files nobody here wrote (issue 15): the Debian units and public
// manifests of tests/lint/data/real (origins in ORIGIN.md), this machine's
// /lib/systemd/system, and systemd-analyze verify as the reference for what
// systemd itself warns about. The units' programs are the real ones, installed
// by scripts/setup.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "lint/lint.h"
#include "lint_testing.h"
#include "unit/unit_file_values.h"

namespace coldstart::lint {
namespace {

namespace fs = std::filesystem;

std::string real(const std::string& rel) { return test::source_path("tests/lint/data/real/" + rel); }

/// EXPECT: "FILE: rule rule ..." per line.
std::map<std::string, std::vector<std::string>> expectations() {
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream in(test::read_text(real("EXPECT")));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    std::istringstream words(line.substr(colon + 1));
    std::vector<std::string> rules;
    for (std::string w; words >> w;) rules.push_back(w);
    std::sort(rules.begin(), rules.end());
    out[real(line.substr(0, colon))] = rules;
  }
  return out;
}

std::string describe(const Finding& f) {
  return unit::to_string(f.pos) + ": " + std::string(severity_name(f.severity)) + ": " + f.message + " [" +
         f.rule + "]";
}

std::vector<const Finding*> with_rule(const LintReport& r, const std::string& rule) {
  std::vector<const Finding*> out;
  for (const Finding& f : r.findings)
    if (f.rule == rule) out.push_back(&f);
  return out;
}

TEST(LintRealFiles, EachFileAloneAndAllAtOnceGiveTheExpectedFindings) {
  auto expected = expectations();
  ASSERT_GE(expected.size(), 20u);
  std::vector<std::string> all, one_by_one;
  for (const auto& [file, rules] : expected) {
    LintReport r = lint_paths({file}, LintContext{});
    EXPECT_TRUE(r.not_checked.empty()) << file << ": " << (r.not_checked.empty() ? "" : r.not_checked[0].message);
    std::vector<std::string> fired;
    std::string details;
    for (const Finding& f : r.findings) {
      fired.push_back(f.rule);
      details += describe(f) + "\n";
      one_by_one.push_back(describe(f));
    }
    std::sort(fired.begin(), fired.end());
    EXPECT_EQ(fired, rules) << file << "\n" << details;
    all.push_back(file);
  }
  // All at once (one probe, one cache): the same findings, nothing refused.
  LintReport together = lint_paths(all, LintContext{});
  EXPECT_TRUE(together.not_checked.empty());
  std::vector<std::string> at_once;
  for (const Finding& f : together.findings) at_once.push_back(describe(f));
  EXPECT_EQ(at_once, one_by_one);
  // And as directories, and as a shell glob over them (drop-in folders included).
  LintReport dirs = lint_paths({real("units"), real("k8s")}, LintContext{});
  EXPECT_EQ(dirs.findings.size(), together.findings.size());
  EXPECT_TRUE(dirs.not_checked.empty());
  std::vector<std::string> glob;
  for (const auto& e : fs::directory_iterator(real("units"))) glob.push_back(e.path().string());
  std::sort(glob.begin(), glob.end());
  LintReport globbed = lint_paths(glob, LintContext{});
  EXPECT_TRUE(globbed.not_checked.empty()) << globbed.not_checked.at(0).message;
  EXPECT_EQ(globbed.files.size(), dirs.files.size() - 3);  // the three manifests
}

// Case 1: scripts are followed through "#!", also /usr/bin/env NAME.
TEST(LintRealFiles, ScriptExecStartsAreFollowedToTheirInterpreter) {
  BinaryProbe probe = make_binary_probe();
  auto apt = probe("/usr/lib/apt/apt.systemd.daily");
  ASSERT_TRUE(apt) << apt.error();
  ASSERT_EQ(apt->scripts.size(), 1u);
  EXPECT_EQ(apt->scripts[0].second, "#!/bin/sh");
  EXPECT_EQ(apt->path, "/bin/sh");
  auto wrapper = probe("/usr/share/memcached/scripts/systemd-memcached-wrapper");
  ASSERT_TRUE(wrapper) << wrapper.error();
  EXPECT_EQ(wrapper->path, "/usr/bin/perl");
  LintReport memcached = lint_paths({real("units/memcached.service")}, LintContext{});
  auto notes = with_rule(memcached, "script-not-checked");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0]->message,
            "/usr/share/memcached/scripts/systemd-memcached-wrapper is a script (#!/usr/bin/perl -w, run by "
            "/usr/bin/perl): not checked on a script: simple-but-notifies");

  test::TempDir dir;
  auto script = [&](const std::string& name, const std::string& shebang) {
    std::string path = dir.path() + "/" + name;
    std::ofstream(path) << shebang << "\nexit 0\n";
    ::chmod(path.c_str(), 0755);
    return path;
  };
  auto env_sh = probe(script("a", "#!/usr/bin/env sh"));
  ASSERT_TRUE(env_sh) << env_sh.error();
  EXPECT_EQ(env_sh->path, unit::resolve_exec_path("sh"));
  auto env_split = probe(script("b", "#!/usr/bin/env -S perl -w -T"));
  ASSERT_TRUE(env_split) << env_split.error();
  EXPECT_EQ(env_split->path, unit::resolve_exec_path("perl"));
  auto nested = probe(script("c", "#!" + dir.path() + "/a"));
  ASSERT_TRUE(nested) << nested.error();
  EXPECT_EQ(nested->scripts.size(), 2u);
  auto one_word = probe(script("d", "#!/usr/bin/env perl -w"));
  ASSERT_FALSE(one_word);
  EXPECT_NE(one_word.error().find("'perl -w' not found in PATH"), std::string::npos) << one_word.error();
  auto data = dir.path() + "/data";
  std::ofstream(data) << "not a program\n";
  EXPECT_EQ(probe(data).error(), data + " is neither an ELF file nor a #! script");

  // A Type=notify unit on a script: not refused, a note names the rules skipped.
  std::string unit = dir.path() + "/s.service";
  std::ofstream(unit) << "[Service]\nType=notify\nExecStart=" << dir.path() << "/a\nWatchdogSec=10\n";
  LintReport r = lint_paths({unit}, LintContext{});
  EXPECT_TRUE(r.not_checked.empty());
  ASSERT_EQ(r.findings.size(), 1u) << describe(r.findings[0]);
  EXPECT_EQ(r.findings[0].rule, "script-not-checked");
  EXPECT_NE(r.findings[0].message.find("not checked on a script: notify-without-support, watchdog-without-support"),
            std::string::npos)
      << r.findings[0].message;
}

// Case 1, second half: a program that is not on this machine is a note.
TEST(LintRealFiles, AMissingProgramIsANoteNotAnError) {
  test::TempDir dir;
  std::string unit = dir.path() + "/m.service", script = dir.path() + "/run";
  std::ofstream(script) << "#!/usr/bin/no-such-interpreter\n";
  std::ofstream(unit) << "[Service]\nType=notify\nExecStart=/usr/bin/no-such-program\n[Install]\nWantedBy=x\n";
  LintReport r = lint_paths({unit}, LintContext{});
  EXPECT_TRUE(r.not_checked.empty());
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].severity, Severity::kNote);
  EXPECT_EQ(r.findings[0].message,
            "not checked: /usr/bin/no-such-program not found; the rules that read the program were skipped");
  std::ofstream(unit) << "[Service]\nExecStart=" << script << "\n";
  LintReport s = lint_paths({unit}, LintContext{});
  ASSERT_EQ(s.findings.size(), 1u);
  EXPECT_NE(s.findings[0].message.find("not checked: /usr/bin/no-such-interpreter not found"), std::string::npos)
      << s.findings[0].message;
}

// Case 4: masked units (a symlink to /dev/null, or empty) are a note.
TEST(LintRealFiles, MaskedUnitsAreANote) {
  test::TempDir dir;
  std::string empty = dir.path() + "/empty.service";
  std::ofstream{empty};
  LintReport r = lint_paths({real("units/hwclock.service"), empty}, LintContext{});
  EXPECT_TRUE(r.not_checked.empty());
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_EQ(r.findings[0].rule, "unit-masked");
  EXPECT_NE(r.findings[0].message.find("masked (a symlink to /dev/null)"), std::string::npos);
  EXPECT_EQ(r.findings[1].rule, "unit-masked");
  EXPECT_NE(r.findings[1].message.find("is empty"), std::string::npos);
}

// Case 5: systemd's daemons notify through libsystemd-shared-252.so, found
// through their RUNPATH as inspect finds it.
TEST(LintRealFiles, NotifyCapabilityIsReadThroughTheNeededLibraries) {
  BinaryProbe probe = make_binary_probe();
  // journald reads $NOTIFY_SOCKET itself too (it forwards notifications); the others only through the library.
  for (const char* daemon : {"/lib/systemd/systemd-journald", "/lib/systemd/systemd-logind",
                             "/lib/systemd/systemd-networkd", "/lib/systemd/systemd-timesyncd"}) {
    auto f = probe(daemon);
    ASSERT_TRUE(f) << f.error();
    EXPECT_TRUE(f->speaks_notify && f->speaks_watchdog) << daemon;
    if (std::string(daemon).ends_with("journald")) continue;
    EXPECT_TRUE(f->notify_evidence.starts_with("needs libsystemd-shared-")) << f->notify_evidence;
    EXPECT_TRUE(f->watchdog_evidence.starts_with("needs libsystemd-shared-")) << f->watchdog_evidence;
  }
  // Linking it is not sending READY=1: fsckd never notifies, so Type=simple is right for it.
  auto fsckd = probe("/lib/systemd/systemd-fsckd");
  ASSERT_TRUE(fsckd);
  EXPECT_TRUE(fsckd->speaks_notify);
  EXPECT_FALSE(fsckd->sends_ready);
  LintReport r = lint_paths({real("units/systemd-journald.service"), real("units/systemd-logind.service"),
                             real("units/systemd-networkd.service"), real("units/systemd-timesyncd.service"),
                             real("units/systemd-fsckd.service")},
                            LintContext{});
  for (const Finding& f : r.findings) ADD_FAILURE() << describe(f);
}

// Case 5: Delegate= takes a list of controllers (user@.service).
TEST(LintRealFiles, DelegateTakesAControllerList) {
  LintReport user = lint_paths({real("units/user@.service")}, LintContext{});
  EXPECT_TRUE(with_rule(user, "invalid-value").empty());
  test::TempDir dir;
  std::string unit = dir.path() + "/d.service";
  std::ofstream(unit) << "[Service]\nExecStart=/bin/true\nDelegate=pids bogus\nDelegate=yes\nDelegate=cpu io\n";
  LintReport r = lint_paths({unit}, LintContext{});
  auto bad = with_rule(r, "invalid-value");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0]->pos.line, 3);
  EXPECT_EQ(bad[0]->message, "Delegate=: not a boolean, and 'bogus' names no cgroup controller; systemd ignores that word");
}

// The acceptance test: every unit of this machine in one command, < 5 s, no exit 2.
TEST(LintSystemUnits, AllOfLibSystemdSystemLintInOneCommandWithoutExit2) {
  auto start = std::chrono::steady_clock::now();
  auto r = test::run_shell(test::coldstart_binary() + " lint --format json /lib/systemd/system");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(r.exit_code, 2) << r.err;
  EXPECT_LT(seconds, 5.0);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_GE(j["files"].size(), 100u);
  EXPECT_TRUE(j["not_checked"].empty()) << j["not_checked"].dump();
  std::cout << "linted " << j["files"].size() << " files of /lib/systemd/system in " << seconds << " s: "
            << j["errors"] << " errors, " << j["warnings"] << " warnings, " << j["notes"] << " notes\n";
}

// What systemd itself says about the same files is the reference: the lines
// lint reports as invalid-value/ignored-line are the lines systemd-analyze
// verify warns about. (Unknown keys are systemd's only; lint does not check them.)
TEST(LintSystemUnits, SyntaxFindingsAreTheLinesSystemdAnalyzeVerifyWarnsAbout) {
  if (test::run_shell("command -v systemd-analyze").exit_code != 0) GTEST_SKIP() << "no systemd-analyze";
  test::TempDir dir;
  std::string corpus = test::materialize_corpus(dir, "units");
  std::string delegate = dir.path() + "/delegate.service";
  std::ofstream(delegate) << "[Service]\nExecStart=/bin/true\nDelegate=pids bogus\nDelegate=pids memory cpu\n";
  std::vector<std::string> files = {corpus + "/invalid-values.service", corpus + "/valid-values.service", delegate};
  for (const auto& e : fs::directory_iterator("/lib/systemd/system")) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".service") || name.ends_with(".socket") || name.ends_with(".timer")) files.push_back(e.path());
  }
  std::string command = "systemd-analyze verify --man=no";
  for (const std::string& f : files) command += " '" + f + "'";
  auto sa = test::run_shell(command + " 2>&1");
  std::set<std::string> systemd_lines, lint_lines;
  std::istringstream out(sa.out);
  for (std::string line; std::getline(out, line);) {
    if (line.find("Unknown key name") != std::string::npos || line.find("Unknown section") != std::string::npos)
      continue;
    for (const std::string& f : files) {
      if (line.starts_with(f + ":") && line.size() > f.size() + 1 && std::isdigit(line[f.size() + 1])) {
        systemd_lines.insert(f + ":" + std::to_string(std::stoi(line.substr(f.size() + 1))));
        break;
      }
    }
  }
  LintReport r = lint_paths(files, LintContext{});
  for (const Finding& f : r.findings)
    if (f.rule == "invalid-value" || f.rule == "ignored-line") lint_lines.insert(f.pos.file + ":" + std::to_string(f.pos.line));
  EXPECT_EQ(lint_lines, systemd_lines) << sa.out;
  EXPECT_GE(systemd_lines.size(), 7u);  // the planted ones: the comparison is not vacuous
}

// Case 3: 10 MiB of YAML (a ConfigMap blob plus Helm-like documents) in
// linear time, at most 2 s of CPU.
TEST(LintLargeInputs, TenMiBOfYamlLintInUnderTwoSecondsAndLinearly) {
  test::TempDir dir;
  auto generate = [&](const std::string& name, size_t mib) {
    std::string path = dir.path() + "/" + name, text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: blob}\ndata:\n  blob.txt: |\n";
    std::string line = "    lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\n";
    while (text.size() < mib << 19) text += line;
    for (int i = 0; text.size() < mib << 20; ++i)
      text += "---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-" +
              std::to_string(i) +
              "\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n"
              "        ports: [{containerPort: 80}]\n        readinessProbe: {httpGet: {path: /, port: 80}}\n";
    std::ofstream(path) << text;
    return path;
  };
  auto cpu = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  std::string one = generate("one.yaml", 1), ten = generate("ten.yaml", 10);
  double t0 = cpu();
  LintReport r1 = lint_paths({one}, LintContext{});
  double t1 = cpu();
  LintReport r10 = lint_paths({ten}, LintContext{});
  double t10 = cpu() - t1;
  t1 -= t0;
  EXPECT_TRUE(r10.not_checked.empty());
  EXPECT_TRUE(r10.findings.empty());
  EXPECT_LE(t10, 2.0);
  EXPECT_LT(t10, 20 * std::max(t1, 0.01)) << "1 MiB: " << t1 << " s, 10 MiB: " << t10 << " s";
  std::cout << "1 MiB: " << t1 << " s CPU, 10 MiB: " << t10 << " s CPU\n";
}

}  // namespace
}  // namespace coldstart::lint
