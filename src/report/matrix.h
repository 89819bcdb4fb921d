// The result model of `coldstart bench --matrix` and its printers: one cell
// per point of the product of the dimensions, each a full bench of the same
// command (runs interleaved across cells), with the Go GC figures gctrace=1
// reported before ready. Printers: the human table (one row per cell, shaped
// like the "GC under cgroup limits" claim it answers), JSON (a bench JSON
// whose "results" are the cells, plus "matrix"), markdown, and the heat maps
// of `coldstart report` (matrix_chart.cc).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "report/bench_results.h"

namespace coldstart::report {

/// One dimension as the user gave it: "cpu-max" = {"none", "1", "0.5"}.
struct MatrixDimension {
  std::string name;
  std::vector<std::string> values;
};

/// The GC of one run up to its ready instant (from the runtime's gctrace).
struct RunGc {
  size_t cycles = 0;                // cycles that started before ready
  std::vector<double> pauses_s;     // every stop-the-world pause (sweep and mark termination)
  double wall_s = 0;                // summed cycle wall time
  double cpu_s = 0;                 // summed GC CPU time
};

/// Statistics of one cell.
struct CellStats {
  RunStats time;                   // time to ready
  double median_low = 0, median_high = 0;  // 95% bootstrap CI of the median
  double gc_cycles_mean = 0;
  double stw_p95_s = 0, stw_sigma_s = 0, stw_max_s = 0;
  size_t stw_count = 0;
  double gc_wall_p95_s = 0;        // p95 over runs of the summed GC wall time
  double gc_cpu_share = 0;         // mean over runs of GC CPU / the tree's CPU up to ready
  double throttled_mean_s = 0;     // cgroup throttled time up to ready
  double attach_mean_s = 0, attach_low_s = 0, attach_high_s = 0;  // v1 attach, mean and 95% CI
};

/// One point of the product: its coordinates and runs.
struct MatrixCell {
  std::vector<std::pair<std::string, std::string>> coords;  // dimension -> value, in dimension order
  std::vector<BenchRun> runs;
  std::vector<RunGc> gc;           // parallel to runs (empty entries when not Go)
  std::vector<double> attach_s;    // parallel to runs
  std::vector<std::string> notes;  // Go settings, containment
  CellStats stats;
  std::string label() const;       // "cpu-max=0.5 env:GOGC=off"
};

struct MatrixReport {
  std::string command;
  std::string ready;
  std::vector<MatrixDimension> dimensions;
  std::vector<MatrixCell> cells;   // row-major over the dimensions (last one fastest)
  size_t runs = 0, warmup = 0, contend = 0;
  bool gctrace = false;            // the GC columns come from GODEBUG=gctrace=1
  bool attach_in_window = false;   // containment: v1 attach counted in time to ready
};

/// Fills every cell's stats.
void finish_matrix(MatrixReport& report);

/// Median of `v` with a 95% percentile-bootstrap CI (2000 resamples, fixed seed).
/// Requires: not empty.
void median_ci(const std::vector<double>& v, double& low, double& high);

std::string matrix_text(const MatrixReport& report);
std::string matrix_markdown(const MatrixReport& report);
nlohmann::json matrix_json(const MatrixReport& report);

/// What `coldstart report` needs of a matrix JSON.
struct MatrixView {
  std::string source;
  std::string command;
  std::vector<MatrixDimension> dimensions;
  struct Cell {
    std::vector<std::string> values;  // one per dimension
    double median_s = 0, low_s = 0, high_s = 0, stw_p95_s = 0, gc_cycles = 0, throttled_s = 0;
    size_t runs = 0;
  };
  std::vector<Cell> cells;
};

/// True if `doc` is a matrix JSON (a bench JSON with "matrix").
bool looks_like_matrix(const nlohmann::json& doc);
/// Throws UserError naming `source` for a malformed matrix.
MatrixView matrix_from_json(const nlohmann::json& doc, const std::string& source);

/// The report section: heat maps of median time to ready and STW p95 (rows:
/// the first dimension; columns: the product of the others), and the table.
std::string matrix_html(const MatrixView& view, size_t index);

}  // namespace coldstart::report
