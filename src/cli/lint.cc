// coldstart lint [--format text|json|sarif] [--bench RESULTS.json]... [--assume-start S]
//                [--max-size BYTES] FILE|DIR...
// Parses the options, runs lint::lint_paths, prints the chosen rendering.
// Exit 1 when any finding is an error, 0 otherwise; 2 when a file could not
// be checked: the report of every other file is printed all the same, then
// one line `coldstart: error: ...` names the first such file.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/strings.h"
#include "lint/lint.h"
#include "lint/output.h"

namespace coldstart::cli {
namespace {

struct LintOptions {
  std::string format = "text";
  std::vector<std::string> bench;
  double assume_start = 0;  // 0: not given
  std::string max_size = "64M";
  std::vector<std::string> files;
};

int run_lint(const LintOptions& o) {
  lint::LintContext context;
  for (const std::string& b : o.bench) {
    auto results = lint::read_bench_results(b);
    context.bench.insert(context.bench.end(), results.begin(), results.end());
  }
  if (o.assume_start > 0) context.assume_start = o.assume_start;
  auto limit = parse_size(o.max_size);
  if (!limit || *limit == 0)
    throw UserError(fmt::format("--max-size: '{}' is not a size (bytes, or with K/M/G)", o.max_size));
  context.max_file_bytes = *limit;
  lint::LintReport report = lint::lint_paths(o.files, context);
  std::string out;
  if (o.format == "json") out = lint::to_json(report).dump(2) + "\n";
  else if (o.format == "sarif") out = lint::to_sarif(report, std::filesystem::current_path().string()).dump(2) + "\n";
  else out = lint::format_text(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (!report.not_checked.empty()) throw UserError(lint::not_checked_summary(report));
  return report.has_errors() ? kExitCheckFailed : kExitOk;
}

}  // namespace

CommandRunner setup_lint(CLI::App& sub) {
  auto o = std::make_shared<LintOptions>();
  sub.add_option("--format", o->format, "text (compiler style), json or sarif (SARIF 2.1.0)")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  sub.add_option("--bench", o->bench,
                 "coldstart bench --export-json file: p99 time-to-ready per command (repeatable)");
  sub.add_option("--assume-start", o->assume_start,
                 "seconds a start takes when --bench has no result for a container: probe windows at or below "
                 "it are errors")
      ->check(CLI::PositiveNumber);
  sub.add_option("--max-size", o->max_size, "files larger than this are not read (default 64M)");
  sub.add_option("files", o->files,
                 "units (.service, .socket, .timer, ...; drop-ins are read too), Kubernetes YAML/JSON, or "
                 "directories of them")
      ->required();
  return [o]() { return run_lint(*o); };
}

}  // namespace coldstart::cli
