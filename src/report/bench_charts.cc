// Bench figures.
//
// All commands of one bench share one time axis (box plot and histograms),
// so cold/warm/prewarm or two builds are compared by eye without reading
// numbers. The axis spans the data padded by 5%, starting at zero when the
// fastest run is within 30% of the origin (so ratios look like ratios).
// Histogram bins: sqrt(n) clamped to 6..40, equal width over the shared axis.
// Box plot: quartiles by linear interpolation, whiskers to min and max (start
// times have real outliers - page-cache misses - that must stay visible), each
// run as a faint dot. Comparisons come from the bench JSON when it has them;
// otherwise every command is compared with the first one here (two_sample.h).
#include "report/bench_charts.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/strings.h"
#include "report/html.h"
#include "report/comparison_words.h"
#include "report/two_sample.h"

namespace coldstart::report {
namespace {

constexpr double kWidth = 960, kLeft = 250, kRight = 30;

std::string base_label(const BenchCommand& c) {
  std::string name = service_name(c.command);
  return c.mode.empty() ? name : name + " (" + c.mode + ")";
}

// Labels from what differs: the exec'd program (behind setpriv, env, ...) and
// the mode, and where two commands of the set still read the same, the
// arguments that tell them apart ("redis-server --port 7001 (warm)").
std::vector<std::string> labels_of(const BenchSet& set) {
  std::vector<std::string> out;
  for (const BenchCommand& c : set.commands) out.push_back(base_label(c));
  for (size_t i = 0; i < out.size(); ++i) {
    std::vector<size_t> same;
    for (size_t j = 0; j < set.commands.size(); ++j)
      if (base_label(set.commands[j]) == base_label(set.commands[i])) same.push_back(j);
    if (same.size() < 2) continue;
    std::vector<std::string> mine = program_words(set.commands[i].command);
    std::vector<std::string> differ;
    for (size_t k = 1; k < mine.size(); ++k) {
      bool everywhere = std::all_of(same.begin(), same.end(), [&](size_t j) {
        auto w = program_words(set.commands[j].command);
        return std::find(w.begin() + (w.empty() ? 0 : 1), w.end(), mine[k]) != w.end();
      });
      // An option's name is kept with a differing value: "--port 7001", not "7001".
      if (!everywhere) {
        if (differ.empty() && k > 1 && mine[k - 1].starts_with('-')) differ.push_back(mine[k - 1]);
        differ.push_back(mine[k]);
      }
    }
    std::string extra = join(differ, " ");
    if (extra.size() > 40) extra = extra.substr(0, 39) + "…";
    if (extra.empty()) extra = fmt::format("#{}", i + 1);  // identical commands: their order
    std::string name = service_name(set.commands[i].command) + " " + extra;
    out[i] = set.commands[i].mode.empty() ? name : name + " (" + set.commands[i].mode + ")";
  }
  return out;
}

Scale shared_axis(const std::vector<const BenchSet*>& sets) {
  double lo = INFINITY, hi = 0;
  for (const BenchSet* set : sets)
    for (const BenchCommand& c : set->commands)
      for (double t : c.times) lo = std::min(lo, t), hi = std::max(hi, t);
  if (!std::isfinite(lo)) return {0, 1, kLeft, kWidth - kRight};
  double pad = (hi - lo) * 0.05 + hi * 1e-3;
  double d0 = lo < 0.3 * hi ? 0 : std::max(0.0, lo - pad);
  return {d0, hi + pad, kLeft, kWidth - kRight};
}

std::string summary_table(const BenchSet& set) {
  std::string out =
      "<table class=\"summary\"><tr><th>command</th><th>mode</th><th>ready</th><th>runs</th><th>median</th>"
      "<th>p95</th><th>min</th><th>max</th><th>σ</th><th>failed</th></tr>\n";
  for (const BenchCommand& c : set.commands) {
    Summary s = summarize(c.times);
    size_t failed = static_cast<size_t>(std::count_if(c.exit_codes.begin(), c.exit_codes.end(),
                                                      [](int e) { return e != 0; }));
    out += fmt::format(
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=num>{}</td><td class=num>{}</td>"
        "<td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td></tr>\n",
        escape(c.command), escape(c.mode.empty() ? "-" : c.mode), escape(c.ready.empty() ? "-" : c.ready), s.count,
        format_duration(s.median), format_duration(s.p95), format_duration(s.min), format_duration(s.max),
        format_duration(s.stddev), failed);
  }
  return out + "</table>\n";
}

std::string box_plot(const BenchSet& set, size_t index, const Scale& x) {
  constexpr double kRow = 44, kTop = 12;
  double axis_y = kTop + kRow * static_cast<double>(set.commands.size()) + 4;
  Svg svg(kWidth, axis_y + 26, fmt::format("bench-{}-boxplot", index), "boxplot",
          "time to ready of every command on one axis");
  svg.time_axis(x, axis_y, kTop);
  for (size_t i = 0; i < set.commands.size(); ++i) {
    const BenchCommand& c = set.commands[i];
    double mid = kTop + kRow * static_cast<double>(i) + kRow / 2;
    svg.text(kLeft - 10, mid + 4, labels_of(set)[i], "end", "strong");
    if (c.times.empty()) {
      svg.text(kLeft + 6, mid + 4, "no runs", "start", "small");
      continue;
    }
    std::vector<double> v = c.times;
    std::sort(v.begin(), v.end());
    double q1 = quantile_sorted(v, 0.25), med = quantile_sorted(v, 0.5), q3 = quantile_sorted(v, 0.75);
    const char* color = c.mode.empty() ? colors::series(i) : colors::mode(c.mode);
    svg.line(x(v.front()), mid, x(v.back()), mid, colors::kAxis);
    svg.line(x(v.front()), mid - 7, x(v.front()), mid + 7, colors::kAxis);
    svg.line(x(v.back()), mid - 7, x(v.back()), mid + 7, colors::kAxis);
    std::string title = fmt::format("{}\nmedian {}  p95 {}\nquartiles {} – {}\nmin {}  max {}  ({} runs)", c.command,
                                    format_duration(med), format_duration(quantile_sorted(v, 0.95)),
                                    format_duration(q1), format_duration(q3), format_duration(v.front()),
                                    format_duration(v.back()), v.size());
    svg.rect(x(q1), mid - 12, std::max(x(q3) - x(q1), 1.5), 24, color, title, "mark box");
    svg.line(x(med), mid - 12, x(med), mid + 12, "#ffffff", 2.5);
    for (size_t k = 0; k < c.times.size(); ++k) {
      double jitter = (static_cast<double>((k * 7919) % 13) - 6) * 1.2;
      svg.circle(x(c.times[k]), mid + 17 + jitter * 0.25, 1.6, colors::kText);
    }
  }
  return svg.str();
}

std::string histogram(const BenchCommand& c, const std::string& label, size_t index, size_t i, const Scale& axis) {
  constexpr double kW = 520, kH = 190, kL = 46, kR = 14, kTop = 26, kBottom = 34;
  Scale x{axis.d0, axis.d1, kL, kW - kR};
  Svg svg(kW, kH, fmt::format("bench-{}-hist-{}", index, i), "histogram", "histogram of " + c.command);
  svg.text(kL, 16, label, "start", "strong");
  if (c.times.empty()) {
    svg.text(kW / 2, kH / 2, "no runs", "middle");
    return svg.str();
  }
  size_t bins = std::clamp<size_t>(static_cast<size_t>(std::sqrt(static_cast<double>(c.times.size()))), 6, 40);
  double width = (axis.d1 - axis.d0) / static_cast<double>(bins);
  std::vector<size_t> counts(bins, 0);
  for (double t : c.times) {
    size_t b = width > 0 ? static_cast<size_t>((t - axis.d0) / width) : 0;
    counts[std::min(b, bins - 1)]++;
  }
  size_t peak = *std::max_element(counts.begin(), counts.end());
  Scale y{0, static_cast<double>(peak), kH - kBottom, kTop};
  const char* color = c.mode.empty() ? colors::series(i) : colors::mode(c.mode);
  for (double t : y.ticks(3)) {
    if (t != std::floor(t)) continue;
    svg.line(kL, y(t), kW - kR, y(t), colors::kGrid);
    svg.text(kL - 6, y(t) + 4, fmt::format("{}", static_cast<long>(t)), "end", "tick");
  }
  for (size_t b = 0; b < bins; ++b) {
    if (counts[b] == 0) continue;
    double lo = axis.d0 + width * static_cast<double>(b);
    svg.rect(x(lo) + 0.5, y(static_cast<double>(counts[b])), x(lo + width) - x(lo) - 1,
             y(0) - y(static_cast<double>(counts[b])), color,
             fmt::format("{} – {}: {} run{}", format_duration(lo), format_duration(lo + width), counts[b],
                         counts[b] == 1 ? "" : "s"),
             "mark bar");
  }
  Summary s = summarize(c.times);
  svg.line(x(s.median), kTop - 4, x(s.median), y(0), colors::kText, 1.5, "4 3");
  svg.text(x(s.median) + 4, kTop + 6, "median " + format_duration(s.median), "start", "small");
  svg.line(x(s.p95), kTop + 10, x(s.p95), y(0), colors::kAxis, 1, "2 3");
  svg.text(x(s.p95) + 4, kTop + 20, "p95", "start", "small");
  svg.time_axis(x, kH - kBottom, kH - kBottom, 5);
  return svg.str();
}

std::vector<BenchComparison> comparisons_of(const BenchSet& set) {
  if (!set.comparisons.empty() || set.commands.size() < 2) return set.comparisons;
  std::vector<BenchComparison> out;
  const BenchCommand& base = set.commands.front();
  for (size_t i = 1; i < set.commands.size(); ++i) {
    const BenchCommand& c = set.commands[i];
    if (base.times.empty() || c.times.empty() || summarize(base.times).median <= 0) continue;
    RatioEstimate r = median_ratio(base.times, c.times);
    out.push_back({base.command, c.command, r.ratio, r.low, r.high, mann_whitney_p(base.times, c.times)});
  }
  return out;
}

std::string comparison_html(const BenchSet& set, size_t index) {
  std::vector<BenchComparison> cmp = comparisons_of(set);
  if (cmp.empty()) return {};
  auto label = [&](const std::string& command) {
    std::vector<std::string> labels = labels_of(set);
    for (size_t k = 0; k < set.commands.size(); ++k)
      if (set.commands[k].command == command) return labels[k];
    return service_name(command);
  };
  std::string words;
  double lo = 1, hi = 1;
  for (const BenchComparison& c : cmp) {
    ComparisonWords w = compare_words(c.ratio, c.ci_low, c.ci_high, c.p_value);
    // "A is 1.3× slower than B (...)", but "A vs B: no significant difference (...)".
    words += w.verdict == Verdict::kNoDifference
                 ? fmt::format("<p class=\"verdict\"><b>{}</b> vs <b>{}</b>: <span class=\"same\">{}</span>.</p>\n",
                               escape(label(c.candidate)), escape(label(c.baseline)), escape(w.text()))
                 : fmt::format("<p class=\"verdict\"><b>{}</b> is <span class=\"{}\">{}</span> than <b>{}</b> ({}).</p>\n",
                               escape(label(c.candidate)), w.css_class(), escape(w.verdict_text),
                               escape(label(c.baseline)), escape(w.detail));
    lo = std::min({lo, c.ratio, c.ci_low.value_or(c.ratio)});
    hi = std::max({hi, c.ratio, c.ci_high.value_or(c.ratio)});
  }
  constexpr double kRow = 34, kTop = 10;
  double pad = (hi - lo) * 0.15 + 0.02;
  Scale x{std::max(0.0, lo - pad), hi + pad, kLeft, kWidth - kRight};
  double axis_y = kTop + kRow * static_cast<double>(cmp.size()) + 4;
  Svg svg(kWidth, axis_y + 30, fmt::format("bench-{}-comparison", index), "comparison",
          "ratio of medians with 95% confidence interval");
  for (double t : x.ticks(6)) {
    svg.line(x(t), kTop, x(t), axis_y, colors::kGrid);
    svg.text(x(t), axis_y + 16, fmt::format("{:g}×", t), "middle", "tick");
  }
  svg.line(x.r0, axis_y, x.r1, axis_y, colors::kAxis);
  svg.line(x(1), kTop - 4, x(1), axis_y, colors::kText, 1.5, "5 3");
  for (size_t i = 0; i < cmp.size(); ++i) {
    const BenchComparison& c = cmp[i];
    double mid = kTop + kRow * static_cast<double>(i) + kRow / 2;
    // Two lines, so two long service names fit left of the axis.
    svg.text(kLeft - 10, mid - 2, label(c.candidate), "end", "small");
    svg.text(kLeft - 10, mid + 11, "÷ " + label(c.baseline), "end", "small");
    ComparisonWords w = compare_words(c.ratio, c.ci_low, c.ci_high, c.p_value);
    std::string title = comparison_sentence(c.candidate, c.baseline, w);
    const char* color = w.verdict == Verdict::kNoDifference ? "#8a939c"
                        : w.verdict == Verdict::kSlower     ? "#b02a1b"
                                                            : "#17794a";
    if (c.ci_low && c.ci_high)
      svg.rect(x(*c.ci_low), mid - 5, std::max(x(*c.ci_high) - x(*c.ci_low), 2.0), 10, color, title, "mark ci");
    svg.circle(x(c.ratio), mid, 5.5, colors::kText, title);
  }
  return "<h3>Comparison</h3>\n" + words + svg.str() +
         "<p class=\"caption\">Ratio of medians (dot) with its 95% confidence interval (bar); the dashed line is "
         "1× (no difference).</p>\n";
}

}  // namespace

std::string bench_html(const BenchSet& set, size_t index) { return bench_html(set, index, {&set}); }

std::string bench_html(const BenchSet& set, size_t index, const std::vector<const BenchSet*>& axis_sets) {
  std::string out = fmt::format("<p class=\"note\">From <code>{}</code>.</p>\n", escape(set.source));
  if (set.commands.empty()) return out + "<p class=\"note\">This bench has no commands: nothing to plot.</p>\n";
  std::vector<const BenchSet*> sets = axis_sets;
  if (std::find(sets.begin(), sets.end(), &set) == sets.end()) sets.push_back(&set);
  Scale axis = shared_axis(sets);
  if (sets.size() > 1) {
    std::vector<std::string> others;
    for (const BenchSet* s : sets)
      if (s != &set) others.push_back("<code>" + escape(s->source) + "</code>");
    out += "<p class=\"note\">Same time axis as " + join(others, ", ") +
           " (benches of the same command), so their figures compare by eye.</p>\n";
  }
  out += summary_table(set);
  out += "<h3>All commands on one axis</h3>\n" + box_plot(set, index, axis);
  out += "<p class=\"caption\">Box: quartiles; white line: median; whiskers: min and max; dots: every run.</p>\n";
  out += "<h3>Distribution per command</h3>\n<div class=\"grid2\">\n";
  std::vector<std::string> labels = labels_of(set);
  for (size_t i = 0; i < set.commands.size(); ++i) out += histogram(set.commands[i], labels[i], index, i, axis);
  out += "</div>\n";
  out += comparison_html(set, index);
  return out;
}

}  // namespace coldstart::report
