// Trace and run figures.
//
// Waterfall: time runs left to right from spawn (0) to ready. The top band
// shows the phases back to back; below, one lane per thread from its start to
// its end, with its off-CPU intervals coloured by cause (disk, network,
// sleeping, run-queue, throttled), and the phase boundaries as dashed lines
// through every lane, so "the loader waited on disk in thread 1" is seen, and
// hovering a mark gives its exact times. A start with a thousand threads must
// still read: the kMaxLanes-1 threads that waited longest (plus the first
// one, the root) get lanes, the rest are drawn together in one last lane.
#include "report/trace_charts.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/strings.h"
#include "report/html.h"

namespace coldstart::report {
namespace {

constexpr double kWidth = 960, kLeft = 170, kRight = 30;
constexpr const char* kCauses[] = {"disk", "network", "sleeping", "run-queue", "throttled", "other"};

double waited(const TraceThread& t) {
  double s = 0;
  for (const TraceWait& w : t.waits) s += w.end - w.start;
  return s;
}

std::string wait_title(const TraceWait& w, std::string_view lane) {
  return fmt::format("{}: {} {}{}\n{} → {}", lane, format_duration(w.end - w.start), w.cause,
                     w.detail.empty() ? "" : " in " + w.detail, format_duration(w.start), format_duration(w.end));
}

// Which threads get their own lane, in display order (by start time).
std::vector<const TraceThread*> chosen_lanes(const TraceView& t, std::vector<const TraceThread*>& rest) {
  std::vector<const TraceThread*> all;
  for (const TraceThread& th : t.threads) all.push_back(&th);
  if (all.size() <= kMaxLanes) {
    std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->start < b->start || (a->start == b->start && a->tid < b->tid); });
    return all;
  }
  std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->start < b->start || (a->start == b->start && a->tid < b->tid); });
  std::vector<const TraceThread*> chosen = {all.front()};
  std::vector<const TraceThread*> others(all.begin() + 1, all.end());
  std::stable_sort(others.begin(), others.end(), [](auto* a, auto* b) { return waited(*a) > waited(*b); });
  chosen.insert(chosen.end(), others.begin(), others.begin() + (kMaxLanes - 2));
  rest.assign(others.begin() + (kMaxLanes - 2), others.end());
  std::sort(chosen.begin(), chosen.end(), [](auto* a, auto* b) { return a->start < b->start || (a->start == b->start && a->tid < b->tid); });
  return chosen;
}

std::string lane_name(const TraceThread& t) {
  std::string n = t.name.empty() ? "thread" : t.name;
  if (n.size() > 16) n = n.substr(0, 15) + "…";
  return t.tid ? fmt::format("{} {}", n, t.tid) : n;
}

std::string waterfall(const TraceView& t, size_t index) {
  constexpr double kPhaseTop = 8, kPhaseH = 30, kLane = 16, kLanesTop = kPhaseTop + kPhaseH + 14;
  std::vector<const TraceThread*> rest;
  std::vector<const TraceThread*> lanes = chosen_lanes(t, rest);
  size_t rows = lanes.size() + (rest.empty() ? 0 : 1);
  double axis_y = kLanesTop + kLane * static_cast<double>(std::max<size_t>(rows, 1)) + 6;
  double end = std::max(t.total, 1e-6);
  Scale x{0, end * 1.02, kLeft, kWidth - kRight};
  Svg svg(kWidth, axis_y + 26, fmt::format("trace-{}-waterfall", index), "waterfall",
          "start-up phases and per-thread waits");
  svg.time_axis(x, axis_y, kPhaseTop);
  svg.text(kLeft - 10, kPhaseTop + kPhaseH / 2 + 4, "phases", "end", "strong");
  for (size_t i = 0; i < t.phases.size(); ++i) {
    const TracePhase& p = t.phases[i];
    std::string title = fmt::format("{}: {} ({} → {})\non CPU {}", p.name, format_duration(p.end - p.start),
                                    format_duration(p.start), format_duration(p.end), format_duration(p.on_cpu));
    for (const auto& [cause, secs] : p.off_cpu) title += fmt::format("\nwaiting on {}: {}", cause, format_duration(secs));
    double w = std::max(x(p.end) - x(p.start), 1.0);
    svg.rect(x(p.start), kPhaseTop, w, kPhaseH, colors::series(i), title, "mark phase");
    // The waits inside the phase as a stacked strip along its bottom edge.
    double px = x(p.start), total_wait = 0;
    for (const auto& [cause, secs] : p.off_cpu) total_wait += secs;
    double scale = total_wait > p.end - p.start && total_wait > 0 ? (p.end - p.start) / total_wait : 1;
    for (const auto& [cause, secs] : p.off_cpu) {
      double ww = (x(p.start + secs * scale) - x(p.start));
      svg.rect(px, kPhaseTop + kPhaseH - 7, ww, 7, colors::wait(cause),
               fmt::format("{}: {} waiting on {}", p.name, format_duration(secs), cause), "mark");
      px += ww;
    }
    if (w > 60) svg.text(x(p.start) + 5, kPhaseTop + 15, p.name, "start", "phase-label");
    if (i > 0) svg.line(x(p.start), kPhaseTop, x(p.start), axis_y, colors::kAxis, 1, "3 3");
  }
  auto draw_lane = [&](double y, const std::string& name, const std::vector<const TraceThread*>& threads,
                       double opacity) {
    svg.text(kLeft - 10, y + 11, name, "end", "small");
    for (const TraceThread* th : threads) {
      svg.rect(x(th->start), y + 6, std::max(x(th->end) - x(th->start), 1.0), 3, "#b8c2cc", {}, {});
      for (const TraceWait& w : th->waits)
        svg.rect(x(w.start), y + 2, std::max(x(w.end) - x(w.start), 1.0), kLane - 5, colors::wait(w.cause),
                 wait_title(w, lane_name(*th)), opacity < 1 ? "mark faint" : "mark");
    }
  };
  for (size_t i = 0; i < lanes.size(); ++i)
    draw_lane(kLanesTop + kLane * static_cast<double>(i), lane_name(*lanes[i]), {lanes[i]}, 1);
  if (!rest.empty())
    draw_lane(kLanesTop + kLane * static_cast<double>(lanes.size()), fmt::format("+{} more threads", rest.size()),
              rest, 0.4);
  if (t.threads.empty()) svg.text(kLeft + 6, kLanesTop + 11, "no per-thread events in this trace", "start", "small");
  std::string ready = t.reached_ready ? "ready" : "end";
  svg.line(x(t.total), kPhaseTop - 4, x(t.total), axis_y, "#b02a1b", 2);
  svg.text(x(t.total) + 4, kPhaseTop + kPhaseH + 10, ready + " " + format_duration(t.total), "start", "strong");
  return svg.str();
}

std::string legend() {
  std::string out = "<p class=\"legend\">";
  for (const char* c : kCauses) out += fmt::format("<span><i style=\"background:{}\"></i>{}</span>", colors::wait(c), c);
  return out + "<span><i style=\"background:#b8c2cc\"></i>thread alive</span></p>\n";
}

std::string phase_table(const TraceView& t) {
  if (t.phases.empty()) return {};
  std::string out = "<table class=\"phases\"><tr><th>phase</th><th>from</th><th>wall</th><th>on CPU</th><th>waiting</th></tr>\n";
  for (const TracePhase& p : t.phases) {
    std::vector<std::string> waits;
    for (const auto& [cause, secs] : p.off_cpu) waits.push_back(cause + " " + format_duration(secs));
    out += fmt::format("<tr><td>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td>{}</td></tr>\n",
                       escape(p.name), format_duration(p.start), format_duration(p.end - p.start),
                       format_duration(p.on_cpu), escape(waits.empty() ? "-" : join(waits, ", ")));
  }
  return out + "</table>\n";
}

std::string top_list(const std::vector<RankedItem>& items, const std::string& id, const std::string& heading) {
  constexpr double kW = 520, kRow = 18, kLabel = 300;
  std::string out = "<div><h3>" + escape(heading) + "</h3>\n";
  if (items.empty()) return out + "<p class=\"note\">none recorded</p></div>\n";
  double peak = 0;
  for (const RankedItem& r : items) peak = std::max(peak, r.value);
  Svg svg(kW, kRow * static_cast<double>(items.size()) + 6, id, "toplist", heading);
  for (size_t i = 0; i < items.size(); ++i) {
    const RankedItem& r = items[i];
    double y = 3 + kRow * static_cast<double>(i);
    std::string name = r.name.size() > 44 ? "…" + r.name.substr(r.name.size() - 43) : r.name;
    svg.text(kLabel - 8, y + 12, name, "end", "small");
    double w = peak > 0 ? (kW - kLabel - 80) * r.value / peak : 0;
    svg.rect(kLabel, y + 2, std::max(w, 1.0), kRow - 5, colors::series(0), r.name + ": " + r.text, "mark");
    svg.text(kLabel + w + 5, y + 12, r.text, "start", "small");
  }
  return out + svg.str() + "</div>\n";
}

// "2.4 ms to ready; the longest phase is app-init (800 µs); most waiting: disk 720 µs."
std::string headline(const TraceView& t) {
  std::string out = format_duration(t.total) + (t.reached_ready ? " from spawn to ready" : " traced (never ready)");
  const TracePhase* longest = nullptr;
  std::map<std::string, double> waits;
  for (const TracePhase& p : t.phases) {
    if (!longest || p.end - p.start > longest->end - longest->start) longest = &p;
    for (const auto& [cause, secs] : p.off_cpu) waits[cause] += secs;
  }
  if (longest)
    out += fmt::format("; the longest phase is <b>{}</b> ({})", escape(longest->name),
                       format_duration(longest->end - longest->start));
  auto most = std::max_element(waits.begin(), waits.end(), [](auto& a, auto& b) { return a.second < b.second; });
  if (most != waits.end())
    out += fmt::format("; most waiting was on <b>{}</b> ({} over all phases)", escape(most->first),
                       format_duration(most->second));
  return "<p class=\"headline\">" + out + ".</p>\n";
}

}  // namespace

std::string trace_html(const TraceView& t, size_t index) {
  std::string out = fmt::format("<p class=\"note\">From <code>{}</code>{}{}: {} phase{}, {} thread{}.</p>\n",
                                escape(t.source), t.program.empty() ? "" : " tracing <code>" + escape(t.program) + "</code>",
                                t.backend.empty() ? "" : " (" + escape(t.backend) + " backend)", t.phases.size(),
                                t.phases.size() == 1 ? "" : "s", t.threads.size(), t.threads.size() == 1 ? "" : "s");
  out += headline(t) + waterfall(t, index) + legend();
  out += phase_table(t);
  out += "<div class=\"grid2\">\n";
  out += top_list(t.files, fmt::format("trace-{}-files", index), "Top files");
  out += top_list(t.libraries, fmt::format("trace-{}-libraries", index), "Top libraries");
  out += top_list(t.syscalls, fmt::format("trace-{}-syscalls", index), "Top syscalls");
  out += "</div>\n";
  for (const std::string& n : t.notes) out += "<p class=\"note\">" + escape(n) + "</p>\n";
  return out;
}

std::string run_html(const RunView& run, size_t index) {
  std::string out = fmt::format("<p class=\"note\">From <code>{}</code>{}.</p>\n", escape(run.source),
                                run.program.empty() ? "" : " supervising <code>" + escape(run.program) + "</code>");
  double end = 1e-6;
  for (const auto& [name, t] : run.events) end = std::max(end, t);
  constexpr double kTop = 30, kH = 120;
  Scale x{0, end * 1.08, kLeft, kWidth - kRight};
  Svg svg(kWidth, kH, fmt::format("run-{}-timeline", index), "timeline", "start-up timeline");
  double axis_y = kH - 30;
  svg.time_axis(x, axis_y, kTop - 10);
  svg.text(kLeft - 10, kTop + 24, "start-up", "end", "strong");
  if (!run.events.empty()) svg.rect(x(run.events.front().second), kTop + 14, std::max(x(end) - x(run.events.front().second), 1.0), 14, "#cfd9e3");
  for (size_t i = 0; i < run.events.size(); ++i) {
    const auto& [name, t] = run.events[i];
    double px = x(t);
    svg.line(px, kTop + 6, px, axis_y, colors::series(i), 2);
    svg.circle(px, kTop + 21, 5, colors::series(i), fmt::format("{} at {}", name, format_duration(t)));
    svg.text(px, kTop - 2 + static_cast<double>(i % 2) * -12 + 8, name + " " + format_duration(t), "middle", "small");
  }
  return out + svg.str();
}

}  // namespace coldstart::report
