// bench's printers: the human table, JSON, markdown and CSV of one
// BenchReport (bench_results.h), each written once here. The JSON keeps
// hyperfine's field names (command, mean, stddev, median, user, system, min,
// max, times, exit_codes) so its plotting scripts read it, and adds ours
// beside them.
#include "report/bench_export.h"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/strings.h"

namespace coldstart::report {
namespace {

using nlohmann::json;

std::string percent(uint64_t part, uint64_t whole) { return format_percent(part, whole, "0%"); }

// Residency before eviction and at run start, summed over the runs that recorded it.
struct Residency {
  uint64_t before = 0, at_start = 0, total = 0;
};
Residency residency(const BenchCommandResult& c) {
  Residency r;
  for (const auto& run : c.runs) {
    if (!run.residency_known) continue;
    r.before += run.resident_before_pages;
    r.at_start += run.resident_at_start_pages;
    r.total += run.file_pages;
  }
  return r;
}

// RSS counters are per-CPU (percpu_counter, batch max(32, 2 x CPUs) pages):
// a peak read at exit misses up to a batch per CPU, so a tiny process reads 0.
uint64_t rss_resolution_bytes() {
  uint64_t cpus = static_cast<uint64_t>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  return cpus * std::max<uint64_t>(32, 2 * cpus) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

size_t failed_runs(const BenchCommandResult& c) {
  return static_cast<size_t>(std::count_if(c.runs.begin(), c.runs.end(), [](const BenchRun& r) { return !r.ready; }));
}

struct ImageMedians {
  double mount = 0, overlay = 0, exec_to_ready = 0;
};

// Medians of the --image figures over the ready runs; nullopt outside an image.
std::optional<ImageMedians> image_medians(const BenchCommandResult& c) {
  std::vector<double> m, o, e;
  for (const auto& r : c.runs) {
    if (!r.ready || !r.mount_time) continue;
    m.push_back(to_seconds(*r.mount_time));
    o.push_back(to_seconds(r.overlay_mount_time.value_or(Duration(0))));
    e.push_back(to_seconds(r.exec_to_ready.value_or(Duration(0))));
  }
  if (m.empty()) return std::nullopt;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  return ImageMedians{median(m), median(o), median(e)};
}

}  // namespace

json bench_json(const BenchReport& report) {
  json results = json::array();
  for (const auto& c : report.commands) {
    const RunStats& s = c.stats;
    json times = json::array(), codes = json::array(), runs = json::array();
    for (const auto& r : c.runs) {
      if (r.ready) {
        times.push_back(to_seconds(r.time_to_ready));
        codes.push_back(r.exit_code.value_or(0));
      }
      json run = {{"ready", r.ready},
                  {"time_to_ready", r.ready ? json(to_seconds(r.time_to_ready)) : json(nullptr)},
                  {"exit_code", r.exit_code ? json(*r.exit_code) : json(nullptr)},
                  {"signal", r.exit_signal},
                  {"user", r.usage.cpu_known ? json(to_seconds(r.usage.user_time)) : json(nullptr)},
                  {"system", r.usage.cpu_known ? json(to_seconds(r.usage.system_time)) : json(nullptr)},
                  {"peak_rss_bytes", r.usage.peak_rss_known ? json(r.usage.peak_rss_bytes) : json(nullptr)},
                  {"major_faults", r.usage.major_faults},
                  {"minor_faults", r.usage.minor_faults},
                  {"voluntary_context_switches", r.usage.voluntary_switches},
                  {"involuntary_context_switches", r.usage.involuntary_switches},
                  {"cpu_periods", r.usage.cpu_periods},
                  {"throttled_periods", r.usage.throttled_periods},
                  {"throttled_time", to_seconds(r.usage.throttled_time)}};
      if (!r.failure.empty()) run["failure"] = r.failure;
      if (r.mount_time) run["mount_time"] = to_seconds(*r.mount_time);
      if (r.overlay_mount_time) run["overlay_mount_time"] = to_seconds(*r.overlay_mount_time);
      if (r.exec_to_ready) run["exec_to_ready"] = to_seconds(*r.exec_to_ready);
      if (r.file_pages > 0) {
        run["resident_before_pages"] = r.residency_known ? json(r.resident_before_pages) : json(nullptr);
        run["resident_at_start_pages"] = r.residency_known ? json(r.resident_at_start_pages) : json(nullptr);
        run["file_pages"] = r.file_pages;
      }
      runs.push_back(std::move(run));
    }
    json entry = {{"command", c.command},
                  {"mean", s.mean},
                  {"stddev", s.count > 1 ? json(s.stddev) : json(nullptr)},
                  {"median", s.median},
                  {"user", s.cpu_known ? json(s.user_mean) : json(nullptr)},
                  {"system", s.cpu_known ? json(s.system_mean) : json(nullptr)},
                  {"min", s.min},
                  {"max", s.max},
                  {"times", times},
                  {"exit_codes", codes},
                  {"mode", c.mode},
                  {"ready", c.ready},
                  {"p90", s.p90},
                  {"p95", s.p95},
                  {"p99", s.p99},
                  {"runs", runs},
                  {"failed_runs", failed_runs(c)},
                  {"notes", c.notes}};
    if (c.outlier_warning) entry["outlier_warning"] = *c.outlier_warning;
    results.push_back(std::move(entry));
  }
  json comparisons = json::array();
  for (const auto& cmp : report.comparisons) {
    comparisons.push_back({{"baseline", report.commands[cmp.baseline].command},
                           {"candidate", report.commands[cmp.candidate].command},
                           {"ratio", cmp.ratio},
                           {"ci", {cmp.ci_low, cmp.ci_high}},
                           {"p_value", cmp.p_value},
                           {"sentence", cmp.sentence}});
  }
  return {{"results", results},
          {"comparisons", comparisons},
          {"interleaved", report.interleaved},
          {"warmup", report.warmup},
          {"isolation", report.isolation},
          {"unavailable", report.unavailable},
          {"tool", "coldstart bench"}};
}

std::string bench_markdown(const BenchReport& report) {
  std::string out =
      "| Command | Mode | Ready | Median [ms] | Mean [ms] | Min [ms] | Max [ms] | p95 [ms] | Relative |\n"
      "|:---|:---|:---|---:|---:|---:|---:|---:|---:|\n";
  double base = report.commands.empty() ? 0 : report.commands[0].stats.median;
  for (const auto& c : report.commands) {
    const RunStats& s = c.stats;
    std::string rel = base > 0 && s.count > 0 ? fmt::format("{:.2f}", s.median / base) : "–";
    std::string cmd = c.command;
    for (size_t p = cmd.find('|'); p != std::string::npos; p = cmd.find('|', p + 2)) cmd.replace(p, 1, "\\|");
    out += fmt::format("| `{}` | {} | {} | {:.3f} | {:.3f} ± {:.3f} | {:.3f} | {:.3f} | {:.3f} | {} |\n", cmd, c.mode,
                       c.ready, s.median * 1e3, s.mean * 1e3, s.stddev * 1e3, s.min * 1e3, s.max * 1e3,
                       s.p95 * 1e3, rel);
  }
  for (const auto& cmp : report.comparisons) out += "\n" + cmp.sentence + "\n";
  return out;
}

std::string bench_csv(const BenchReport& report) {
  auto quote = [](const std::string& s) {
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  };
  std::string out =
      "command,mode,ready,run,ready_ok,time_to_ready,exit_code,signal,user,system,peak_rss_bytes,major_faults,"
      "minor_faults,voluntary_context_switches,involuntary_context_switches,throttled_periods,throttled_time,"
      "resident_before_pages,resident_at_start_pages,file_pages,failure\n";
  for (const auto& c : report.commands) {
    for (size_t i = 0; i < c.runs.size(); ++i) {
      const BenchRun& r = c.runs[i];
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6f},{},{},{},{}\n", quote(c.command),
                         c.mode, quote(c.ready), i + 1, r.ready ? 1 : 0, r.ready ? fmt::format("{:.9f}", to_seconds(r.time_to_ready)) : "",
                         r.exit_code ? std::to_string(*r.exit_code) : "", r.exit_signal,
                         r.usage.cpu_known ? fmt::format("{:.6f}", to_seconds(r.usage.user_time)) : "",
                         r.usage.cpu_known ? fmt::format("{:.6f}", to_seconds(r.usage.system_time)) : "",
                         r.usage.peak_rss_known ? std::to_string(r.usage.peak_rss_bytes) : "", r.usage.major_faults, r.usage.minor_faults,
                         r.usage.voluntary_switches, r.usage.involuntary_switches, r.usage.throttled_periods,
                         to_seconds(r.usage.throttled_time), r.residency_known ? std::to_string(r.resident_before_pages) : "",
                         r.residency_known ? std::to_string(r.resident_at_start_pages) : "", r.file_pages,
                         quote(r.failure));
    }
  }
  return out;
}

std::string bench_text(const BenchReport& report) {
  std::string out;
  if (report.isolation.starts_with("process group")) {
    // Once, before the figures it affects.
    out += "Isolation: " + report.isolation + "\n";
    for (const auto& u : report.unavailable) out += "  unavailable: " + u + "\n";
    out += "\n";
  } else if (!report.unavailable.empty()) {
    for (const auto& u : report.unavailable) out += "Unavailable: " + u + "\n";
    out += "\n";
  }
  for (size_t i = 0; i < report.commands.size(); ++i) {
    const BenchCommandResult& c = report.commands[i];
    const RunStats& s = c.stats;
    out += fmt::format("Benchmark {}: {}\n", i + 1, c.command);
    out += fmt::format("  ready: {}, {}, {} run{}", c.ready, c.mode, c.runs.size(), c.runs.size() == 1 ? "" : "s");
    if (size_t failed = failed_runs(c)) out += fmt::format(" ({} failed)", failed);
    out += "\n";
    if (s.count > 0) {
      out += fmt::format("  Time to ready (median ± σ):  {} ± {}   [mean {}]\n", format_duration(s.median),
                         format_duration(s.stddev), format_duration(s.mean));
      out += fmt::format("  Range (min … max):           {} … {}   p90 {}  p95 {}  p99 {}\n", format_duration(s.min),
                         format_duration(s.max), format_duration(s.p90), format_duration(s.p95),
                         format_duration(s.p99));
      // Resources: the median run's figures are typical; print means.
      bool rss_known = false;
      double rss = 0, majf = 0, minf = 0, vcs = 0, ics = 0, thr = 0, thr_s = 0;
      for (const auto& r : c.runs) {
        if (!r.ready) continue;
        if (r.usage.peak_rss_known) rss = std::max(rss, static_cast<double>(r.usage.peak_rss_bytes)), rss_known = true;
        majf += static_cast<double>(r.usage.major_faults);
        minf += static_cast<double>(r.usage.minor_faults);
        vcs += static_cast<double>(r.usage.voluntary_switches);
        ics += static_cast<double>(r.usage.involuntary_switches);
        thr += static_cast<double>(r.usage.throttled_periods);
        thr_s += to_seconds(r.usage.throttled_time);
      }
      const double n = static_cast<double>(s.count);
      out += fmt::format("  Up to ready (mean per run):  user {}, system {}, peak RSS {}, faults {:.0f} major / {:.0f} "
                         "minor, context switches {:.0f} / {:.0f}\n",
                         s.cpu_known ? format_duration(s.user_mean) : "unavailable",
                         s.cpu_known ? format_duration(s.system_mean) : "unavailable",
                         !rss_known ? std::string("unavailable")
                         : rss > 0  ? format_bytes(static_cast<uint64_t>(rss))
                                    : "< " + format_bytes(rss_resolution_bytes()) + " (below the kernel's counter batch)",
                         majf / n, minf / n, vcs / n, ics / n);
      if (thr > 0) {
        out += fmt::format("  CPU limit: throttled in {:.1f} periods per run, {} per run\n", thr / n,
                           format_duration(thr_s / n));
      }
    }
    Residency res = residency(c);
    bool residency_unknown = std::any_of(c.runs.begin(), c.runs.end(), [](const BenchRun& r) { return !r.residency_known; });
    if (residency_unknown) {
      out += "  Page cache:                  residency unknown (see unavailable above)\n";
    } else if (res.total > 0) {
      out += fmt::format("  Page cache:                  {} of the files' pages resident before eviction, {} at run start\n",
                         percent(res.before, res.total), percent(res.at_start, res.total));
    }
    if (auto m = image_medians(c)) {
      out += fmt::format("  Image:                       entering it {} (overlayfs mount {}), exec to ready {} (medians)\n",
                         format_duration(m->mount), format_duration(m->overlay), format_duration(m->exec_to_ready));
    }
    for (const auto& note : c.notes) {
      out += note.starts_with("warning: ") ? "  Warning: " + note.substr(9) + "\n" : "  Note: " + note + "\n";
    }
    if (c.outlier_warning) out += "  Warning: " + *c.outlier_warning + "\n";
    for (const auto& r : c.runs) {
      if (!r.ready) {
        out += "  Failed run: " + r.failure + "\n";
        break;
      }
    }
    out += "\n";
  }
  if (!report.comparisons.empty()) {
    out += "Summary\n";
    for (const auto& cmp : report.comparisons) out += "  " + cmp.sentence + "\n";
  }
  return out;
}

}  // namespace coldstart::report
