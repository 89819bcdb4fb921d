// HTML and SVG output. Every chart is inline SVG with a viewBox, so it scales
// to the page width on a laptop screen and prints; styles are one inline
// <style> block; there is no script at all, hover detail comes from SVG
// <title> children, which Chromium and Firefox both show as tooltips.
// Ticks follow the classic 1-2-5 "nice number" steps so axes read at a glance.
#include "report/html.h"

#include <cmath>

#include <fmt/format.h>

#include "core/strings.h"

namespace coldstart::report {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace colors {

const char* mode(std::string_view mode) {
  if (mode == "cold") return "#2166ac";
  if (mode == "warm") return "#e08214";
  if (mode == "prewarm") return "#1b9e57";
  return "#5e7ea1";
}

const char* wait(std::string_view cause) {
  if (cause == "disk") return "#c0392b";
  if (cause == "network") return "#8e44ad";
  if (cause == "sleeping") return "#7f8c8d";
  if (cause == "run-queue") return "#e6b000";
  if (cause == "throttled") return "#d35400";
  return "#a3acb5";
}

const char* series(size_t i) {
  static constexpr const char* kPalette[] = {"#2166ac", "#e08214", "#1b9e57", "#8e44ad",
                                             "#c0392b", "#0f8b8d", "#7a5c2e", "#d1478c"};
  return kPalette[i % std::size(kPalette)];
}

}  // namespace colors

double Scale::operator()(double v) const {
  if (d1 == d0) return (r0 + r1) / 2;
  return r0 + (v - d0) / (d1 - d0) * (r1 - r0);
}

std::vector<double> Scale::ticks(int n) const {
  std::vector<double> out;
  double span = d1 - d0;
  if (!(span > 0) || n < 1) return {d0};
  double raw = span / n;
  double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  for (double t = std::ceil(d0 / step) * step; t <= d1 + step * 1e-9; t += step) out.push_back(t == 0 ? 0 : t);
  return out;
}

Svg::Svg(double width, double height, std::string id, std::string css_class, std::string label)
    : width_(width), height_(height), id_(std::move(id)), class_(std::move(css_class)), label_(std::move(label)) {}

namespace {
std::string titled(std::string_view open, std::string_view title, std::string_view close_tag) {
  if (title.empty()) return std::string(open) + "/>\n";
  return std::string(open) + "><title>" + escape(title) + "</title></" + std::string(close_tag) + ">\n";
}
}  // namespace

void Svg::rect(double x, double y, double w, double h, std::string_view fill, std::string_view title,
               std::string_view cls) {
  std::string open = fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{:.1f}\" fill=\"{}\"", x, y,
                                 std::max(w, 0.0), std::max(h, 0.0), fill);
  if (!cls.empty()) open += fmt::format(" class=\"{}\"", cls);
  body_ += titled(open, title, "rect");
}

void Svg::line(double x1, double y1, double x2, double y2, std::string_view stroke, double stroke_width,
               std::string_view dash) {
  body_ += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"{}\"",
                       x1, y1, x2, y2, stroke, stroke_width);
  if (!dash.empty()) body_ += fmt::format(" stroke-dasharray=\"{}\"", dash);
  body_ += "/>\n";
}

void Svg::text(double x, double y, std::string_view s, std::string_view anchor, std::string_view cls) {
  body_ += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\"{}>{}</text>\n", x, y, anchor,
                       cls.empty() ? std::string() : fmt::format(" class=\"{}\"", cls), escape(s));
}

void Svg::circle(double cx, double cy, double r, std::string_view fill, std::string_view title) {
  body_ += titled(fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"", cx, cy, r, fill), title,
                  "circle");
}

void Svg::polyline(const std::vector<std::pair<double, double>>& points, std::string_view stroke,
                   double stroke_width, std::string_view dash) {
  std::string pts;
  for (const auto& [x, y] : points) pts += fmt::format("{:.1f},{:.1f} ", x, y);
  body_ += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}/>\n", pts, stroke,
                       stroke_width, dash.empty() ? std::string() : fmt::format(" stroke-dasharray=\"{}\"", dash));
}

std::vector<std::string> time_tick_labels(const std::vector<double>& ticks) {
  double top = ticks.empty() ? 0 : std::fabs(ticks.back());
  double unit = top >= 1 ? 1 : top >= 1e-3 ? 1e-3 : 1e-6;
  const char* name = top >= 1 ? "s" : top >= 1e-3 ? "ms" : "µs";
  std::vector<std::string> out;
  for (double t : ticks) {
    double v = t / unit;
    out.push_back(v == 0 ? std::string("0") : fmt::format("{:.4g} {}", v, name));
  }
  return out;
}

void Svg::time_axis(const Scale& x, double y, double grid_top, int ticks) {
  line(x.r0, y, x.r1, y, colors::kAxis);
  std::vector<double> values = x.ticks(ticks);
  std::vector<std::string> labels = time_tick_labels(values);
  for (size_t i = 0; i < values.size(); ++i) {
    double px = x(values[i]);
    line(px, grid_top, px, y, colors::kGrid, 1);
    line(px, y, px, y + 4, colors::kAxis);
    text(px, y + 16, labels[i], "middle", "tick");
  }
}

std::string Svg::str() const {
  return fmt::format(
      "<svg id=\"{}\" class=\"chart {}\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" style=\"max-width: {}px\" "
      "role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">\n{}</svg>\n",
      escape(id_), escape(class_), width_, height_, width_, height_, width_, escape(label_), body_);
}

void Page::section(std::string_view id, std::string_view heading, std::string_view html) {
  nav_ += fmt::format("<a href=\"#{}\">{}</a>\n", escape(id), escape(heading));
  body_ += fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n{}</section>\n", escape(id), escape(heading), html);
}

std::string Page::str() const {
  // The rendered size of every chart as data-width/data-height, so a DOM dump
  // (headless Chromium's --dump-dom, the report test) shows the page laid out
  // each figure with a real size. Inline and tiny: the page loads nothing.
  static constexpr const char* kSizeScript =
      "<script>for (const e of document.querySelectorAll('svg.chart')) { const r = e.getBoundingClientRect();"
      " e.dataset.width = Math.round(r.width); e.dataset.height = Math.round(r.height); }</script>\n";
  static constexpr const char* kStyle = R"css(
:root { color-scheme: light; }
body { margin: 0; background: #fbfcfd; color: #1d2329;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { padding: 14px 28px; background: #eef2f6; border-bottom: 1px solid #d9dee3; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header nav a { margin-right: 14px; color: #1f5f99; text-decoration: none; }
main { max-width: 1120px; margin: 0 auto; padding: 8px 28px 40px; }
section { margin: 22px 0 30px; }
h2 { font-size: 17px; margin: 0 0 8px; border-bottom: 1px solid #d9dee3; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
p.note, p.caption { color: #4a545e; margin: 4px 0 10px; }
svg.chart { display: block; width: 100%; height: auto; max-width: 1060px; }
svg text { fill: #1d2329; font-size: 12px; }
svg text.tick { fill: #59636e; font-size: 11px; }
svg text.small { font-size: 10.5px; fill: #4a545e; }
svg text.small, svg text.strong, svg text.phase-label { paint-order: stroke; stroke: #fbfcfd; stroke-width: 3px; stroke-linejoin: round; }
svg text.phase-label { stroke: none; font-weight: 600; }
p.headline { font-size: 15px; margin: 4px 0 10px; }
svg text.strong { font-weight: 600; }
svg rect.mark:hover, svg circle:hover { stroke: #1d2329; stroke-width: 1.5; }
.verdict { font-size: 15px; margin: 6px 0; }
.slower { color: #b02a1b; font-weight: 600; }
.faster { color: #17794a; font-weight: 600; }
.same { color: #4a545e; font-weight: 600; }
table { border-collapse: collapse; margin: 6px 0 12px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid #e6e9ed; vertical-align: top; }
th { font-weight: 600; color: #3a434c; }
td.num { text-align: right; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 11px; height: 11px; margin-right: 5px; vertical-align: -1px; border-radius: 2px; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 10px 24px; }
code { font: 12.5px ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; background: #eef2f6; padding: 0 3px; }
)css";
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n"
      "<style>{}</style>\n</head>\n<body>\n<header><h1>{}</h1>\n<nav>\n{}</nav></header>\n<main>\n{}</main>\n"
      "{}</body>\n</html>\n",
      escape(title_), kStyle, escape(title_), nav_, body_, kSizeScript);
}

}  // namespace coldstart::report
