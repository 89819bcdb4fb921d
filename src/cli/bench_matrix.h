// `coldstart bench --matrix DIM=V1,V2,...`: one bench over the product of the
// dimensions (cpu-max, memory-max, memory-high, cpu-weight, containment,
// env:NAME), every cell a full bench of the one COMMAND, runs interleaved
// across cells. bench.cc validates its own options and hands over here.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "launch/launcher.h"
#include "report/matrix.h"

namespace coldstart::cli {

/// What bench passes on: the command, the counts, the launch options every
/// cell starts from (--ready, --env, --cpu-max, ... already applied).
struct MatrixRequest {
  std::string command;
  std::vector<report::MatrixDimension> dimensions;
  size_t runs = 10;
  size_t warmup = 1;
  size_t contend = 0;
  launch::LaunchOptions common;
  std::string export_json, export_markdown;
  bool json = false;
  bool ignore_failure = false;
};

/// Parses the --matrix specs ("cpu-max=none,1,0.5", "env:GOGC=100,off", ...),
/// validating every value. Throws UserError "bad --matrix 'SPEC': reason".
std::vector<report::MatrixDimension> parse_matrix(const std::vector<std::string>& specs);

/// Plans every cell (bad combinations are a UserError before anything runs),
/// runs warm-ups then the measured rounds, prints and exports. Returns the
/// exit status (1 when a run failed without --ignore-failure).
int run_bench_matrix(const MatrixRequest& request);

}  // namespace coldstart::cli
