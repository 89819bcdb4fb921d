// The fleet export: coldstart's time-to-ready figures in node_exporter's
// textfile-collector format, so Prometheus scrapes them with no new service.
#pragma once

#include <string>
#include <vector>

#include "report/bench_model.h"

namespace coldstart::report {

/// One labelled sample set of time-to-ready measurements.
struct ReadySeries {
  std::string service;  // e.g. service_name(command)
  std::string mode;     // "cold", "warm", "prewarm", "run", ...
  std::vector<double> seconds;
};

/// The quantiles exported for each series.
inline constexpr double kExportedQuantiles[] = {0.5, 0.9, 0.95, 0.99};

/// The text of a .prom file: a summary metric coldstart_time_to_ready_seconds
/// {service,host,mode,quantile} with _sum and _count, plus
/// coldstart_time_to_ready_last_export_timestamp_seconds. Series without
/// samples are left out (a summary of nothing has no quantiles).
std::string prometheus_text(const std::vector<ReadySeries>& series, const std::string& host,
                            double unix_time);

/// The series of a bench result: one per command, mode "warm" when unknown.
std::vector<ReadySeries> ready_series(const BenchSet& set);

/// Writes prometheus_text(...) for `set` to `path` atomically (temp file in the
/// same directory, then rename, so node_exporter never reads half a file), with
/// this machine's hostname and the current time. Throws UserError.
void export_prometheus(const std::string& path, const BenchSet& set);
void export_prometheus(const std::string& path, const std::vector<ReadySeries>& series);

}  // namespace coldstart::report
