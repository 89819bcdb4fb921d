// The history and fleet options bench shares with report/: --save LABEL,
// --baseline LABEL, --db PATH, --export-prometheus FILE and budgets of the
// form 'regression<N%'. bench adds them with one call, prepares them before
// its first launch (bad label or budget: exit 2 before anything runs) and
// finishes them after its exports.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "report/baseline.h"

namespace CLI {
class App;
}

namespace coldstart::cli {

/// What the user asked of the history for one bench, and the baseline loaded for it.
struct HistoryOptions {
  std::string save;            // --save LABEL
  std::string baseline;        // --baseline LABEL
  std::string db;              // --db PATH ("" = default_history_path())
  std::string prometheus;      // --export-prometheus FILE
  std::optional<report::RegressionBudget> regression;
  std::optional<report::Session> baseline_session;
};

/// Adds --save, --baseline, --db and --export-prometheus to `sub`.
void add_history_options(CLI::App& sub, HistoryOptions& o);

/// Moves 'regression<N%' budgets out of `budgets` into `o`, opens the
/// database and loads the baseline. Throws UserError (exit 2) for a
/// regression budget without --baseline, a missing label, a bad database.
void prepare_history(HistoryOptions& o, std::vector<std::string>& budgets);

/// After a bench: saves it, writes the Prometheus file, prints the baseline
/// comparison to `out`. Returns 1 when the regression budget is broken, else 0.
int finish_history(const HistoryOptions& o, const nlohmann::json& bench_json, std::FILE* out);

}  // namespace coldstart::cli
