// Trend chart: x is the session's save time (or its order when every session
// has the same time), y is time to ready; per command a solid line through
// the medians and a dashed line through the p95s, each point hoverable with
// the session's date, git revision and host. Commands are matched across
// sessions by their text and mode.
#include "report/trend_chart.h"

#include <ctime>
#include <map>

#include <fmt/format.h>

#include "core/strings.h"
#include "report/html.h"

namespace coldstart::report {
namespace {


}  // namespace

std::string trend_html(const std::string& label, const std::vector<Session>& sessions) {
  if (sessions.empty()) return "<p class=\"note\">No bench saved under '" + escape(label) + "'.</p>\n";
  struct Point {
    double x, median, p95;
    std::string title;
  };
  std::map<std::string, std::vector<Point>> series;  // "command (mode)" -> points
  double hi = 0;
  double t_first = sessions.front().created_at, t_last = sessions.back().created_at;
  bool by_time = t_last > t_first;
  for (size_t i = 0; i < sessions.size(); ++i) {
    const Session& s = sessions[i];
    for (const BenchCommand& c : s.commands) {
      if (c.times.empty()) continue;
      Summary sum = summarize(c.times);
      std::string key = service_name(c.command) + (c.mode.empty() ? "" : " (" + c.mode + ")");
      std::string title = fmt::format("{}\n{} UTC{}\nmedian {}  p95 {}  ({} runs)\n{} · {}", key, format_utc_minutes(s.created_at),
                                      s.git_revision.empty() ? "" : "  git " + s.git_revision.substr(0, 10),
                                      format_duration(sum.median), format_duration(sum.p95), sum.count,
                                      s.host.hostname, s.host.kernel);
      series[key].push_back({by_time ? s.created_at : static_cast<double>(i), sum.median, sum.p95, title});
      hi = std::max(hi, sum.p95);
    }
  }
  constexpr double kW = 960, kH = 300, kL = 70, kR = 30, kTop = 16, kBottom = 40;
  Scale x{by_time ? t_first : 0, by_time ? t_last : std::max(1.0, static_cast<double>(sessions.size() - 1)), kL, kW - kR};
  Scale y{0, hi * 1.1 + 1e-9, kH - kBottom, kTop};
  Svg svg(kW, kH, "history-trend", "trend", "median and p95 over time for '" + label + "'");
  for (double t : y.ticks(5)) {
    svg.line(kL, y(t), kW - kR, y(t), colors::kGrid);
    svg.text(kL - 6, y(t) + 4, format_duration(t), "end", "tick");
  }
  svg.line(kL, kH - kBottom, kW - kR, kH - kBottom, colors::kAxis);
  svg.text(kL, kH - kBottom + 18, by_time ? format_utc_minutes(t_first) : "first", "start", "tick");
  svg.text(kW - kR, kH - kBottom + 18, by_time ? format_utc_minutes(t_last) : "last", "end", "tick");
  std::string legend = "<p class=\"legend\">";
  size_t i = 0;
  for (const auto& [key, points] : series) {
    const char* color = colors::series(i++);
    std::vector<std::pair<double, double>> med, p95;
    for (const Point& p : points) med.emplace_back(x(p.x), y(p.median)), p95.emplace_back(x(p.x), y(p.p95));
    svg.polyline(med, color, 2);
    svg.polyline(p95, color, 1.2, "5 4");
    for (const Point& p : points) {
      svg.circle(x(p.x), y(p.median), 4, color, p.title);
      svg.circle(x(p.x), y(p.p95), 2.5, color, p.title);
    }
    legend += fmt::format("<span><i style=\"background:{}\"></i>{}</span>", color, escape(key));
  }
  legend += "</p>\n";
  return fmt::format("<p class=\"note\">{} session{} saved under <code>{}</code>; solid line and big dots: median; dashed line and small dots: p95.</p>\n",
                     sessions.size(), sessions.size() == 1 ? "" : "s", escape(label)) +
         svg.str() + legend;
}

}  // namespace coldstart::report
