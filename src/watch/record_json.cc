#include "core/clock.h"
#include "watch/record_json.h"

#include <time.h>

namespace coldstart::watch {
namespace {

nlohmann::json milestone_json(const MilestoneAt& m) {
  if (!m.has_task) return {{"seconds", m.seconds}};
  return {{"seconds", m.seconds},           {"cpu_time", m.cpu_seconds}, {"major_faults", m.major_faults},
          {"throttled_time", m.throttled_seconds}, {"pid", m.pid},      {"comm", m.comm}};
}

void put_if(nlohmann::json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}

}  // namespace

int64_t realtime_offset_ns() {
  timespec rt{}, mono{};
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  return (static_cast<int64_t>(rt.tv_sec) - mono.tv_sec) * 1'000'000'000 + (rt.tv_nsec - mono.tv_nsec);
}

nlohmann::json record_json(const StartRecord& r, int64_t realtime_minus_monotonic_ns) {
  nlohmann::json j;
  j["service"] = r.labels.service;
  j["kind"] = r.labels.kind;
  put_if(j, "unit", r.labels.unit);
  put_if(j, "instance", r.labels.instance);
  put_if(j, "pod_uid", r.labels.pod_uid);
  put_if(j, "qos", r.labels.qos);
  put_if(j, "container_id", r.labels.container_id);
  put_if(j, "runtime", r.labels.runtime);
  j["cgroup"] = r.cgroup;
  j["pid"] = r.pid;
  j["exe"] = r.exe;
  if (r.first_exe != r.exe) j["first_exe"] = r.first_exe;
  j["args"] = r.args;
  j["t0"] = std::string(start_origin_name(r.origin));
  j["start_time"] = ns_to_s(r.t0_ns + realtime_minus_monotonic_ns);
  j["exec_time"] = ns_to_s(r.exec_ns + realtime_minus_monotonic_ns);
  j["time_to_exec"] = ns_to_s(r.exec_ns - r.t0_ns);
  if (r.fork_ns > 0) j["fork_at"] = ns_to_s(r.fork_ns - r.t0_ns);  // <= 0: the fork, from t0
  j["outcome"] = r.outcome;
  j["time_to_listen"] = r.listen ? nlohmann::json(r.listen->seconds) : nlohmann::json();
  j["time_to_notify"] = r.notify ? nlohmann::json(r.notify->seconds) : nlohmann::json();
  j["time_to_first_accept"] = r.accept ? nlohmann::json(r.accept->seconds) : nlohmann::json();
  j["time_to_entry"] = r.entry ? nlohmann::json(r.entry->seconds) : nlohmann::json();
  j["time_to_main"] = r.main ? nlohmann::json(r.main->seconds) : nlohmann::json();
  j["phase_probes"] = std::string(phase_probes_name(r.phase_probes));
  if (!r.main_symbol.empty()) j["main_symbol"] = r.main_symbol;
  if (r.entry) j["entry"] = milestone_json(*r.entry);
  if (r.main) j["main"] = milestone_json(*r.main);
  if (r.listen) {
    j["listen"] = milestone_json(*r.listen);
    j["listen"]["family"] = r.listen_family;
    if (r.listen_port != 0) j["listen"]["port"] = r.listen_port;
    if (!r.listen_path.empty()) j["listen"]["path"] = r.listen_path;
  }
  if (r.notify) j["notify"] = milestone_json(*r.notify);
  if (r.accept) {
    j["first_accept"] = milestone_json(*r.accept);
    if (!r.accept_family.empty()) j["first_accept"]["family"] = r.accept_family;
  }
  if (r.new_mount_namespace) j["new_mount_namespace"] = true;
  if (!r.overlay_mounts.empty()) {
    nlohmann::json mounts = nlohmann::json::array();
    for (const OverlayMount& m : r.overlay_mounts)
      mounts.push_back({{"at", m.at_seconds}, {"seconds", m.seconds}, {"lower_layers", m.lower_layers},
                        {"pid", m.pid}, {"comm", m.comm}});
    j["overlay_mounts"] = mounts;
  }
  if (r.end) j["end"] = milestone_json(*r.end);
  if (r.exit_status) j["exit_status"] = *r.exit_status;
  if (r.exit_signal) j["exit_signal"] = *r.exit_signal;
  j["failed"] = r.failed();
  return j;
}

}  // namespace coldstart::watch
