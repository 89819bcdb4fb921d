// Statistics and printers of a bench matrix.
//
// Time to ready: the usual RunStats plus a 95% percentile-bootstrap CI of the
// median (start-up times are skewed; the median and a resampled interval
// assume no distribution). STW pauses: every pause of every run of the cell
// pooled, then p95, σ (sample stddev) and max; this is what the claim's
// "STW p95" and "STW jitter σ" name. GC CPU share: per run, the GC CPU time
// gctrace reports for the cycles before ready over the tree's CPU time up to
// ready (cgroup cpu.stat), averaged over runs. The attach cost: mean and a
// normal-approximation 95% CI (n >= 5 runs give a usable one).
#include "report/matrix.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/strings.h"
#include "report/bench_model.h"

namespace coldstart::report {
namespace {

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double stddev_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = mean_of(v), ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

double p95_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return quantile_sorted(v, 0.95);
}

std::string ms(double s) { return fmt::format("{:.2f}", s * 1e3); }

}  // namespace

std::string MatrixCell::label() const {
  std::string out;
  for (const auto& [k, v] : coords) out += (out.empty() ? "" : " ") + k + "=" + v;
  return out;
}

void median_ci(const std::vector<double>& v, double& low, double& high) {
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.size() < 2) {
    low = high = sorted.empty() ? 0 : sorted[0];
    return;
  }
  std::mt19937_64 rng(17);
  std::uniform_int_distribution<size_t> pick(0, sorted.size() - 1);
  constexpr int kResamples = 2000;
  std::vector<double> medians;
  medians.reserve(kResamples);
  std::vector<double> sample(sorted.size());
  for (int i = 0; i < kResamples; ++i) {
    for (auto& x : sample) x = sorted[pick(rng)];
    std::sort(sample.begin(), sample.end());
    medians.push_back(quantile_sorted(sample, 0.5));
  }
  std::sort(medians.begin(), medians.end());
  low = quantile_sorted(medians, 0.025);
  high = quantile_sorted(medians, 0.975);
}

void finish_matrix(MatrixReport& report) {
  for (MatrixCell& c : report.cells) {
    CellStats& s = c.stats;
    s = CellStats{};
    s.time = compute_stats(c.runs);
    std::vector<double> times, pauses, walls, shares, throttled, attach;
    for (size_t i = 0; i < c.runs.size(); ++i) {
      const BenchRun& r = c.runs[i];
      if (!r.ready) continue;
      times.push_back(to_seconds(r.time_to_ready));
      throttled.push_back(to_seconds(r.usage.throttled_time));
      if (i < c.attach_s.size()) attach.push_back(c.attach_s[i]);
      if (i < c.gc.size()) {
        const RunGc& g = c.gc[i];
        pauses.insert(pauses.end(), g.pauses_s.begin(), g.pauses_s.end());
        walls.push_back(g.wall_s);
        s.gc_cycles_mean += static_cast<double>(g.cycles);
        double cpu = to_seconds(r.usage.user_time + r.usage.system_time);
        shares.push_back(cpu > 0 ? std::min(1.0, g.cpu_s / cpu) : 0);
      }
    }
    if (!times.empty()) median_ci(times, s.median_low, s.median_high);
    if (!walls.empty()) s.gc_cycles_mean /= static_cast<double>(walls.size());
    s.stw_count = pauses.size();
    s.stw_p95_s = p95_of(pauses);
    s.stw_sigma_s = stddev_of(pauses);
    s.stw_max_s = pauses.empty() ? 0 : *std::max_element(pauses.begin(), pauses.end());
    s.gc_wall_p95_s = p95_of(walls);
    s.gc_cpu_share = mean_of(shares);
    s.throttled_mean_s = mean_of(throttled);
    s.attach_mean_s = mean_of(attach);
    double half = attach.size() > 1 ? 1.96 * stddev_of(attach) / std::sqrt(static_cast<double>(attach.size())) : 0;
    s.attach_low_s = std::max(0.0, s.attach_mean_s - half);
    s.attach_high_s = s.attach_mean_s + half;
  }
}

std::string matrix_text(const MatrixReport& r) {
  std::string out = fmt::format("{}: {} cells × {} runs (interleaved across cells{}), ready: {}\n", r.command,
                                r.cells.size(), r.runs, r.contend ? fmt::format(", {} load processes", r.contend) : "",
                                r.ready);
  size_t w = 4;
  for (const auto& c : r.cells) w = std::max(w, c.label().size());
  out += fmt::format("\n{:<{}}  {:>4}  {:>10}  {:>19}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}  {:>10}{}\n", "cell", w, "runs",
                     "median ms", "95% CI ms", "p95 ms", "GC cycles", "STW p95", "STW σ", "GC CPU", "throttled",
                     r.attach_in_window ? "  attach ms (95% CI)" : "");
  for (const auto& c : r.cells) {
    const CellStats& s = c.stats;
    std::string attach = r.attach_in_window ? fmt::format("  {:.2f} ({:.2f}–{:.2f})", s.attach_mean_s * 1e3,
                                                          s.attach_low_s * 1e3, s.attach_high_s * 1e3)
                                            : "";
    out += fmt::format("{:<{}}  {:>4}  {:>10}  {:>19}  {:>9}  {:>9}  {:>9}  {:>9}  {:>6.1f}%  {:>10}{}\n", c.label(), w,
                       s.time.count, ms(s.time.median), ms(s.median_low) + "–" + ms(s.median_high), ms(s.time.p95),
                       r.gctrace ? fmt::format("{:.1f}", s.gc_cycles_mean) : "–",
                       r.gctrace && s.stw_count ? ms(s.stw_p95_s) : "–", r.gctrace && s.stw_count ? ms(s.stw_sigma_s) : "–",
                       s.gc_cpu_share * 100, ms(s.throttled_mean_s), attach);
  }
  out += "\n(STW p95/σ in ms over every stop-the-world pause before ready, pooled across the cell's runs;\n"
         " GC CPU = gctrace's GC CPU time / the tree's CPU time up to ready; throttled = mean cgroup throttled time)\n";
  return out;
}

std::string matrix_markdown(const MatrixReport& r) {
  std::string out;
  for (const auto& d : r.dimensions) out += "| " + d.name + " ";
  out += "| runs | median [ms] | 95% CI [ms] | p95 [ms] | GC cycles | STW p95 [ms] | STW σ [ms] | GC CPU | throttled [ms] |";
  if (r.attach_in_window) out += " attach [ms] (95% CI) |";
  out += "\n";
  for (size_t i = 0; i < r.dimensions.size(); ++i) out += "|:---";
  out += "|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + std::string(r.attach_in_window ? "---:|" : "") + "\n";
  for (const auto& c : r.cells) {
    const CellStats& s = c.stats;
    for (const auto& [k, v] : c.coords) out += "| " + v + " ";
    out += fmt::format("| {} | {} | {}–{} | {} | {} | {} | {} | {:.1f}% | {} |", s.time.count, ms(s.time.median),
                       ms(s.median_low), ms(s.median_high), ms(s.time.p95),
                       r.gctrace ? fmt::format("{:.1f}", s.gc_cycles_mean) : "–",
                       s.stw_count ? ms(s.stw_p95_s) : "–", s.stw_count ? ms(s.stw_sigma_s) : "–",
                       s.gc_cpu_share * 100, ms(s.throttled_mean_s));
    if (r.attach_in_window)
      out += fmt::format(" {} ({}–{}) |", ms(s.attach_mean_s), ms(s.attach_low_s), ms(s.attach_high_s));
    out += "\n";
  }
  return out;
}

nlohmann::json matrix_json(const MatrixReport& r) {
  using nlohmann::json;
  json results = json::array(), cells = json::array(), dims = json::array();
  for (const auto& d : r.dimensions) dims.push_back({{"name", d.name}, {"values", d.values}});
  for (const auto& c : r.cells) {
    const CellStats& s = c.stats;
    json times = json::array(), codes = json::array(), runs = json::array();
    for (size_t i = 0; i < c.runs.size(); ++i) {
      const BenchRun& run = c.runs[i];
      if (run.ready) times.push_back(to_seconds(run.time_to_ready));
      codes.push_back(run.exit_code.value_or(run.exit_signal ? 128 + run.exit_signal : 0));
      json one = {{"ready", run.ready}, {"time_to_ready", to_seconds(run.time_to_ready)}, {"user", to_seconds(run.usage.user_time)},
                  {"system", to_seconds(run.usage.system_time)}, {"throttled_time", to_seconds(run.usage.throttled_time)},
                  {"throttled_periods", run.usage.throttled_periods}};
      if (i < c.attach_s.size()) one["attach_time"] = c.attach_s[i];
      if (i < c.gc.size()) {
        one["gc"] = {{"cycles", c.gc[i].cycles}, {"pauses", c.gc[i].pauses_s}, {"wall", c.gc[i].wall_s},
                     {"cpu", c.gc[i].cpu_s}};
      }
      if (!run.failure.empty()) one["failure"] = run.failure;
      runs.push_back(std::move(one));
    }
    results.push_back({{"command", c.label()}, {"mean", s.time.mean}, {"stddev", s.time.stddev},
                       {"median", s.time.median}, {"min", s.time.min}, {"max", s.time.max},
                       {"user", s.time.user_mean}, {"system", s.time.system_mean}, {"times", times},
                       {"exit_codes", codes}, {"mode", "warm"}, {"ready", r.ready}});
    json coords = json::object();
    for (const auto& [k, v] : c.coords) coords[k] = v;
    cells.push_back({{"coords", coords},
                     {"label", c.label()},
                     {"notes", c.notes},
                     {"runs", runs},
                     {"time_to_ready", {{"count", s.time.count}, {"median", s.time.median},
                                        {"median_ci", {s.median_low, s.median_high}}, {"mean", s.time.mean},
                                        {"stddev", s.time.stddev}, {"p95", s.time.p95}, {"min", s.time.min},
                                        {"max", s.time.max}}},
                     {"gc_cycles_mean", s.gc_cycles_mean},
                     {"stw", {{"count", s.stw_count}, {"p95", s.stw_p95_s}, {"stddev", s.stw_sigma_s},
                              {"max", s.stw_max_s}}},
                     {"gc_wall_p95", s.gc_wall_p95_s},
                     {"gc_cpu_share", s.gc_cpu_share},
                     {"throttled_mean", s.throttled_mean_s},
                     {"attach", {{"mean", s.attach_mean_s}, {"ci", {s.attach_low_s, s.attach_high_s}}}}});
  }
  return {{"results", results},
          {"matrix",
           {{"command", r.command}, {"ready", r.ready}, {"dimensions", dims}, {"cells", cells}, {"runs", r.runs},
            {"warmup", r.warmup}, {"contend", r.contend}, {"gctrace", r.gctrace},
            {"attach_in_window", r.attach_in_window}, {"interleaved", true}}}};
}

bool looks_like_matrix(const nlohmann::json& doc) {
  return doc.is_object() && doc.contains("matrix") && doc["matrix"].is_object();
}

MatrixView matrix_from_json(const nlohmann::json& doc, const std::string& source) {
  MatrixView v;
  v.source = source;
  try {
    const auto& m = doc.at("matrix");
    v.command = m.value("command", "");
    for (const auto& d : m.at("dimensions")) {
      v.dimensions.push_back({d.at("name").get<std::string>(), d.at("values").get<std::vector<std::string>>()});
    }
    for (const auto& c : m.at("cells")) {
      MatrixView::Cell cell;
      for (const auto& d : v.dimensions) cell.values.push_back(c.at("coords").at(d.name).get<std::string>());
      const auto& t = c.at("time_to_ready");
      cell.runs = t.at("count").get<size_t>();
      cell.median_s = t.at("median").get<double>();
      cell.low_s = t.at("median_ci").at(0).get<double>();
      cell.high_s = t.at("median_ci").at(1).get<double>();
      cell.stw_p95_s = c.at("stw").at("p95").get<double>();
      cell.gc_cycles = c.at("gc_cycles_mean").get<double>();
      cell.throttled_s = c.at("throttled_mean").get<double>();
      v.cells.push_back(std::move(cell));
    }
  } catch (const nlohmann::json::exception& e) {
    throw UserError(source + ": malformed bench matrix: " + e.what());
  }
  return v;
}

}  // namespace coldstart::report
