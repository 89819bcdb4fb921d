// coldstart lint [--format text|json|sarif] [--bench RESULTS.json] FILE...
// Parses the options, runs lint::lint_paths, prints the chosen rendering.
// Exit 1 when any finding is an error, 0 otherwise; unreadable or
// unparsable input throws (exit 2, nothing on stdout).
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "lint/lint.h"
#include "lint/output.h"

namespace coldstart::cli {
namespace {

struct LintOptions {
  std::string format = "text";
  std::string bench;
  double assume_start = 30;
  std::vector<std::string> files;
};

int run_lint(const LintOptions& o) {
  lint::LintContext context;
  if (!o.bench.empty()) {
    context.bench = lint::read_bench_results(o.bench);
    context.bench_file = o.bench;
  }
  context.default_start_seconds = o.assume_start;
  lint::LintReport report = lint::lint_paths(o.files, context);
  std::string out;
  if (o.format == "json") out = lint::to_json(report).dump(2) + "\n";
  else if (o.format == "sarif") out = lint::to_sarif(report, std::filesystem::current_path().string()).dump(2) + "\n";
  else out = lint::format_text(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return report.has_errors() ? kExitCheckFailed : kExitOk;
}

}  // namespace

CommandRunner setup_lint(CLI::App& sub) {
  auto o = std::make_shared<LintOptions>();
  sub.add_option("--format", o->format, "text (compiler style), json or sarif (SARIF 2.1.0)")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  sub.add_option("--bench", o->bench, "coldstart bench --export-json file: p99 time-to-ready per command");
  sub.add_option("--assume-start", o->assume_start,
                 "seconds a start may take when --bench has no result for it (Kubernetes rules; default 30)")
      ->check(CLI::PositiveNumber);
  sub.add_option("files", o->files, ".service/.socket units (drop-ins are read too) and Kubernetes YAML")
      ->required();
  return [o]() { return run_lint(*o); };
}

}  // namespace coldstart::cli
