// The bench part of the report: a summary table, a box plot of every command
// on one axis, a histogram per command, and the comparisons in words and as
// a confidence-interval chart.
#pragma once

#include <string>
#include <vector>

#include "report/bench_model.h"

namespace coldstart::report {

/// The HTML of one bench input. `index` makes element ids unique
/// (bench-<index>-boxplot, bench-<index>-comparison; histograms have class "histogram").
std::string bench_html(const BenchSet& set, size_t index);

/// The same, with the time axis spanning `axis_sets` too: benches of the same
/// command from separate files (a cold and a prewarm run) on one axis.
std::string bench_html(const BenchSet& set, size_t index, const std::vector<const BenchSet*>& axis_sets);

}  // namespace coldstart::report
