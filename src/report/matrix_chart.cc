// The heat maps of a bench matrix in `coldstart report`.
//
// Rows are the values of the first dimension, columns the product of the
// others (in the order bench ran them), so "cpu-max × (GOMAXPROCS, GOGC)"
// reads like the claim's table. Colour: a sequential light-to-dark ramp over
// the cell values on a log scale (start times span 10× under quotas; a
// linear ramp would paint every unthrottled cell the same), each cell
// labelled with its value and, on hover, its CI and run count.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/strings.h"
#include "report/html.h"
#include "report/matrix.h"

namespace coldstart::report {
namespace {

// Light yellow -> dark blue, interpolated in RGB: readable text on both ends.
std::string ramp(double t) {
  static const double stops[][3] = {{255, 247, 188}, {161, 218, 180}, {65, 182, 196}, {34, 94, 168}, {12, 44, 132}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  int i = std::min(3, static_cast<int>(t));
  double f = t - i;
  auto c = [&](int k) { return static_cast<int>(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f); };
  return fmt::format("#{:02x}{:02x}{:02x}", c(0), c(1), c(2));
}

std::string column_label(const MatrixView& v, const MatrixView::Cell& c) {
  std::string out;
  for (size_t d = 1; d < v.dimensions.size(); ++d) {
    std::string name = v.dimensions[d].name;
    if (name.starts_with("env:")) name = name.substr(4);  // the heading says which are env
    out += (out.empty() ? "" : " ") + name + "=" + c.values[d];
  }
  return out.empty() ? "all" : out;
}

template <typename Value, typename Title>
std::string heat_map(const MatrixView& v, const std::string& id, const std::string& label, Value value, Title title) {
  std::vector<std::string> rows, cols;
  for (const auto& c : v.cells) {
    std::string r = v.dimensions.empty() ? "" : v.dimensions[0].name + "=" + c.values[0];
    std::string k = column_label(v, c);
    if (std::find(rows.begin(), rows.end(), r) == rows.end()) rows.push_back(r);
    if (std::find(cols.begin(), cols.end(), k) == cols.end()) cols.push_back(k);
  }
  double lo = INFINITY, hi = 0;
  for (const auto& c : v.cells) {
    double x = value(c);
    if (x > 0) lo = std::min(lo, x), hi = std::max(hi, x);
  }
  const double left = 170, top = 170, cw = std::max(90.0, 760.0 / std::max<size_t>(1, cols.size())), ch = 34;
  Svg svg(left + cw * static_cast<double>(cols.size()) + 20, top + ch * static_cast<double>(rows.size()) + 20, id,
          "chart heatmap", label);
  for (size_t j = 0; j < cols.size(); ++j) {
    // Column headings turned 30° so long "env:GOMAXPROCS=1 env:GOGC=off" labels fit.
    double x = left + cw * (static_cast<double>(j) + 0.5);
    svg.text(x, top - 8, cols[j].size() > 34 ? cols[j].substr(0, 33) + "…" : cols[j], "start",
             "heatmap-col");
  }
  for (size_t i = 0; i < rows.size(); ++i) svg.text(left - 8, top + ch * (static_cast<double>(i) + 0.62), rows[i], "end");
  for (const auto& c : v.cells) {
    std::string r = v.dimensions.empty() ? "" : v.dimensions[0].name + "=" + c.values[0];
    size_t i = static_cast<size_t>(std::find(rows.begin(), rows.end(), r) - rows.begin());
    size_t j = static_cast<size_t>(std::find(cols.begin(), cols.end(), column_label(v, c)) - cols.begin());
    double x = value(c);
    double t = x <= 0 || !std::isfinite(lo) ? 0 : hi > lo ? std::log(x / lo) / std::log(hi / lo) : 0.5;
    double px = left + cw * static_cast<double>(j), py = top + ch * static_cast<double>(i);
    svg.rect(px + 1, py + 1, cw - 2, ch - 2, ramp(t), title(c), "heatmap-cell");
    svg.text(px + cw / 2, py + ch * 0.62, x > 0 ? format_duration(x) : "–", "middle",
             t > 0.55 ? "heatmap-light" : "heatmap-dark");
  }
  return svg.str();
}

}  // namespace

std::string matrix_html(const MatrixView& v, size_t index) {
  std::string out = fmt::format("<p><code>{}</code>: {} cells</p>\n", escape(v.command), v.cells.size());
  out += "<style>.heatmap-col{transform-box:fill-box;transform:rotate(-30deg)} .heatmap-light{fill:#fff} "
         ".heatmap-dark{fill:#1d2329}</style>\n";
  out += "<h3>Median time to ready</h3>\n";
  out += heat_map(
      v, fmt::format("matrix-{}-ready", index), "median time to ready per cell",
      [](const MatrixView::Cell& c) { return c.median_s; },
      [](const MatrixView::Cell& c) {
        return fmt::format("median {} (95% CI {}–{}), {} runs", format_duration(c.median_s), format_duration(c.low_s),
                           format_duration(c.high_s), c.runs);
      });
  out += "<h3>Stop-the-world pause p95 (Go GC, before ready)</h3>\n";
  out += heat_map(
      v, fmt::format("matrix-{}-stw", index), "GC stop-the-world pause p95 per cell",
      [](const MatrixView::Cell& c) { return c.stw_p95_s; },
      [](const MatrixView::Cell& c) {
        return fmt::format("STW p95 {}, {:.1f} GC cycles before ready, throttled {}", format_duration(c.stw_p95_s),
                           c.gc_cycles, format_duration(c.throttled_s));
      });
  out += "<table class=\"summary\"><tr>";
  for (const auto& d : v.dimensions) out += "<th>" + escape(d.name) + "</th>";
  out += "<th>runs</th><th>median</th><th>95% CI</th><th>GC cycles</th><th>STW p95</th><th>throttled</th></tr>\n";
  for (const auto& c : v.cells) {
    out += "<tr>";
    for (const auto& x : c.values) out += "<td>" + escape(x) + "</td>";
    out += fmt::format("<td class=num>{}</td><td class=num>{}</td><td class=num>{}–{}</td><td class=num>{:.1f}</td>"
                       "<td class=num>{}</td><td class=num>{}</td></tr>\n",
                       c.runs, format_duration(c.median_s), format_duration(c.low_s), format_duration(c.high_s),
                       c.gc_cycles, format_duration(c.stw_p95_s), format_duration(c.throttled_s));
  }
  return out + "</table>\n";
}

}  // namespace coldstart::report
