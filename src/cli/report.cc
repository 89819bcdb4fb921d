// coldstart report: bench/trace/run JSON (and a history label) to one
// self-contained HTML page, written atomically.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "core/file.h"
#include "core/strings.h"
#include "report/history.h"
#include "report/report_page.h"

namespace coldstart::cli {

CommandRunner setup_report(CLI::App& sub) {
  struct Options {
    std::vector<std::string> inputs;
    std::string output;
    std::string history_label;
    std::string db;
  };
  auto opts = std::make_shared<Options>();
  sub.add_option("inputs", opts->inputs, "bench, trace or run JSON files (any mix)");
  sub.add_option("-o,--output", opts->output, "the HTML file to write")->required();
  sub.add_option("--history", opts->history_label, "also plot the trend of median and p95 saved under LABEL");
  sub.add_option("--db", opts->db, "history database (default $XDG_STATE_HOME/coldstart/history.db)");
  return [opts]() -> int {
    if (opts->inputs.empty() && opts->history_label.empty())
      throw UserError("report: give at least one INPUT.json or --history LABEL");
    report::ReportInputs inputs;
    // Read everything before writing anything: a bad input leaves no output file.
    for (const std::string& path : opts->inputs) report::load_input_file(path, inputs);
    if (!opts->history_label.empty()) {
      std::string db = opts->db.empty() ? report::default_history_path() : opts->db;
      inputs.history_label = opts->history_label;
      inputs.history = report::HistoryDb::open(db).sessions_with_label(opts->history_label);
      if (inputs.history.empty())
        throw UserError("history " + db + ": no bench saved under label '" + opts->history_label + "'");
    }
    std::string html = report::render_report(inputs);
    write_file_atomic(opts->output, html);
    fmt::print("wrote {} ({}; {} bench, {} trace, {} run input{}{})\n", opts->output, format_bytes(html.size()),
               inputs.benches.size() + inputs.matrices.size(), inputs.traces.size(), inputs.runs.size(),
               inputs.benches.size() + inputs.matrices.size() + inputs.traces.size() + inputs.runs.size() == 1 ? "" : "s",
               inputs.history_label.empty() ? "" : ", history '" + inputs.history_label + "'");
    return kExitOk;
  };
}

}  // namespace coldstart::cli
