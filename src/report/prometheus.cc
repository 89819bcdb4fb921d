// Prometheus text exposition format 0.0.4, as node_exporter's textfile
// collector reads it (*.prom files in --collector.textfile.directory):
//  * one # HELP and one # TYPE line per metric family, before its samples;
//  * label values escape backslash, double quote and newline;
//  * a summary family has {quantile="q"} samples plus _sum and _count;
//  * the collector reads whatever is in the file when scraped, so the file is
//    written to a temp name that does not end in .prom and renamed over.
// Timestamps are not put on samples (the collector rejects them); the export
// time is its own gauge, so a stale export can be alerted on.
#include "report/prometheus.h"

#include <sys/utsname.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "core/error.h"
#include "core/file.h"

namespace coldstart::report {
namespace {

constexpr const char* kMetric = "coldstart_time_to_ready_seconds";

std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string labels(const ReadySeries& s, const std::string& host) {
  return fmt::format("service=\"{}\",host=\"{}\",mode=\"{}\"", escape_label(s.service), escape_label(host),
                     escape_label(s.mode));
}

// Go's strconv 'g' style that Prometheus parsers accept, full precision.
std::string number(double v) { return fmt::format("{}", v); }

std::string hostname() {
  struct utsname u {};
  return ::uname(&u) == 0 ? std::string(u.nodename) : std::string("unknown");
}

}  // namespace

std::string prometheus_text(const std::vector<ReadySeries>& series, const std::string& host, double unix_time) {
  std::string out;
  out += fmt::format("# HELP {} Time from spawn until the service was ready, measured by coldstart.\n", kMetric);
  out += fmt::format("# TYPE {} summary\n", kMetric);
  for (const ReadySeries& s : series) {
    if (s.seconds.empty()) continue;
    std::vector<double> sorted = s.seconds;
    std::sort(sorted.begin(), sorted.end());
    std::string l = labels(s, host);
    for (double q : kExportedQuantiles)
      out += fmt::format("{}{{{},quantile=\"{}\"}} {}\n", kMetric, l, q, number(quantile_sorted(sorted, q)));
    double sum = 0;
    for (double v : sorted) sum += v;
    out += fmt::format("{}_sum{{{}}} {}\n", kMetric, l, number(sum));
    out += fmt::format("{}_count{{{}}} {}\n", kMetric, l, sorted.size());
  }
  out += "# HELP coldstart_time_to_ready_last_export_timestamp_seconds When coldstart wrote this file.\n";
  out += "# TYPE coldstart_time_to_ready_last_export_timestamp_seconds gauge\n";
  out += fmt::format("coldstart_time_to_ready_last_export_timestamp_seconds{{host=\"{}\"}} {:.3f}\n",
                     escape_label(host), unix_time);
  return out;
}

std::vector<ReadySeries> ready_series(const BenchSet& set) {
  std::vector<ReadySeries> out;
  for (const BenchCommand& c : set.commands)
    out.push_back({service_name(c.command), c.mode.empty() ? "warm" : c.mode, c.times});
  return out;
}

void export_prometheus(const std::string& path, const std::vector<ReadySeries>& series) {
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  write_file_atomic(path, prometheus_text(series, hostname(), now));
}

void export_prometheus(const std::string& path, const BenchSet& set) { export_prometheus(path, ready_series(set)); }

}  // namespace coldstart::report
