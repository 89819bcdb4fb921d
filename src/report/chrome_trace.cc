// Chrome Trace Event format writer: metadata events ("ph": "M") name the
// process and each thread track, complete events ("ph": "X") carry ts and
// dur in microseconds. Viewers nest X events of one track by containment, so
// the order we emit (start ascending, longer first) is the order they expect.
#include "report/chrome_trace.h"

#include <algorithm>
#include <tuple>

namespace coldstart::report {

std::string write_chrome_trace(const ChromeTrace& trace) {
  using nlohmann::json;
  json events = json::array();
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", trace.pid}, {"tid", 0},
                    {"args", {{"name", trace.process_name}}}});
  for (const auto& t : trace.tracks) {
    events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", t.pid}, {"tid", t.tid}, {"args", {{"name", t.name}}}});
    events.push_back({{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", t.pid}, {"tid", t.tid},
                      {"args", {{"sort_index", t.sort_index}}}});
  }
  std::vector<const ChromeSlice*> order;
  for (const auto& s : trace.slices) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(), [](const ChromeSlice* a, const ChromeSlice* b) {
    return std::make_tuple(a->pid, a->tid, a->start_us, -a->dur_us) <
           std::make_tuple(b->pid, b->tid, b->start_us, -b->dur_us);
  });
  for (const ChromeSlice* s : order)
    events.push_back({{"name", s->name}, {"cat", s->category}, {"ph", "X"}, {"pid", s->pid}, {"tid", s->tid},
                      {"ts", s->start_us}, {"dur", s->dur_us}, {"args", s->args}});
  json doc = {{"traceEvents", events}, {"displayTimeUnit", "ms"}};
  return doc.dump() + "\n";
}

}  // namespace coldstart::report
