// The HTML/SVG page framework of `coldstart report`: escaping, a small SVG
// builder whose marks carry hover titles, linear scales with readable ticks,
// and the self-contained page (inline CSS, no external script, font or CDN).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coldstart::report {

/// Text made safe for HTML/SVG element content and attribute values.
std::string escape(std::string_view text);

/// Colours shared by every chart (dark marks on a light background).
namespace colors {
inline constexpr const char* kText = "#1d2329";
inline constexpr const char* kGrid = "#d9dee3";
inline constexpr const char* kAxis = "#59636e";
/// The colour of a bench mode ("cold", "warm", "prewarm"; anything else grey-blue).
const char* mode(std::string_view mode);
/// The colour of a wait cause ("disk", "network", "sleeping", "run-queue", "throttled", "other").
const char* wait(std::string_view cause);
/// The colour of the i-th series or phase.
const char* series(size_t i);
}  // namespace colors

/// A linear map from data values [d0, d1] to pixels [r0, r1].
struct Scale {
  double d0 = 0, d1 = 1, r0 = 0, r1 = 1;
  double operator()(double v) const;
  /// About `n` round tick values (1, 2, 5 × 10^k steps) inside [d0, d1].
  std::vector<double> ticks(int n) const;
};

/// Tick labels of one time axis in a single unit chosen from the largest tick: "0", "0.5 ms", "1 ms".
std::vector<std::string> time_tick_labels(const std::vector<double>& ticks);

/// Svg accumulates the marks of one chart with a fixed viewBox; it scales to
/// its container's width. Marks given a title show it on hover (SVG <title>).
class Svg {
 public:
  Svg(double width, double height, std::string id, std::string css_class, std::string label);

  double width() const { return width_; }
  double height() const { return height_; }
  void rect(double x, double y, double w, double h, std::string_view fill, std::string_view title = {},
            std::string_view cls = {});
  void line(double x1, double y1, double x2, double y2, std::string_view stroke, double stroke_width = 1,
            std::string_view dash = {});
  void text(double x, double y, std::string_view s, std::string_view anchor = "start", std::string_view cls = {});
  void circle(double cx, double cy, double r, std::string_view fill, std::string_view title = {});
  void polyline(const std::vector<std::pair<double, double>>& points, std::string_view stroke, double stroke_width,
                std::string_view dash = {});
  /// A horizontal time axis at y with grid lines up to `grid_top` (labels in µs/ms/s).
  void time_axis(const Scale& x, double y, double grid_top, int ticks = 6);
  std::string str() const;

 private:
  double width_, height_;
  std::string id_, class_, label_;
  std::string body_;
};

/// Page is one self-contained HTML document made of titled sections.
class Page {
 public:
  explicit Page(std::string title) : title_(std::move(title)) {}
  /// Adds a section with an id (for links and tests), a heading and HTML content.
  void section(std::string_view id, std::string_view heading, std::string_view html);
  std::string str() const;

 private:
  std::string title_;
  std::string nav_, body_;
};

}  // namespace coldstart::report
