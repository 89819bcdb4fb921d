// [Service]/[Socket] settings as systemd applies them: assignments are
// replayed in file order (unit first, then drop-ins), each one either
// replacing the setting, resetting it (empty value) or, when its value does
// not parse, being ignored with a recorded problem, exactly as systemd's
// load-fragment.c leaves the previous value in place after a warning.
#include "unit/unit_file_service.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/file.h"
#include "core/strings.h"

namespace coldstart::unit {
namespace {

/// Replays the assignments of one section, dispatching on the key.
class SectionReader {
 public:
  SectionReader(const UnitFile& unit, std::string section, std::vector<UnitProblem>& problems)
      : unit_(unit), section_(std::move(section)), problems_(problems) {}

  template <typename Fn>
  void each(std::string_view key, Fn&& fn) {
    for (const UnitEntry& e : unit_.entries())
      if (e.section == section_ && e.key == key) fn(e);
  }

  void problem(const UnitEntry& e, size_t offset, std::string message) {
    problems_.push_back({e.pos_at(offset), e.key, std::move(message),
                         static_cast<size_t>(&e - unit_.entries().data())});
  }

  /// A time span; `zero_is_infinity` for TimeoutStartSec= and friends.
  void timespan(std::string_view key, Located<uint64_t>& out, uint64_t default_value, bool zero_is_infinity) {
    each(key, [&](const UnitEntry& e) { apply_timespan(e, out, default_value, zero_is_infinity); });
  }

  void apply_timespan(const UnitEntry& e, Located<uint64_t>& out, uint64_t default_value, bool zero_is_infinity) {
    if (e.value.empty()) {
      out = {default_value, {}};
      return;
    }
    auto v = parse_timespan(e.value);
    if (!v) return problem(e, 0, v.error());
    out = {zero_is_infinity && *v == 0 ? kUsecInfinity : *v, e.value_pos};
  }

  /// One word out of a fixed set.
  void choice(std::string_view key, Located<std::string>& out, std::initializer_list<std::string_view> allowed) {
    std::string default_value = out.value;
    each(key, [&](const UnitEntry& e) {
      if (e.value.empty()) {
        out = {default_value, {}};
        return;
      }
      for (std::string_view a : allowed) {
        if (e.value == a) {
          out = {e.value, e.value_pos};
          return;
        }
      }
      problem(e, 0, fmt::format("invalid {} '{}' (one of: {})", e.key, e.value,
                                join(std::vector<std::string>(allowed.begin(), allowed.end()), ", ")));
    });
  }

  /// A free-form string, specifier-expanded.
  void text(std::string_view key, Located<std::string>& out) {
    each(key, [&](const UnitEntry& e) {
      auto v = expand_specifiers(e.value, unit_.name());
      if (!v) return problem(e, 0, v.error());
      out = {*v, e.value.empty() ? std::nullopt : std::optional<SourcePos>(e.value_pos)};
    });
  }

  void exec(std::string_view key, Located<std::vector<ExecCommand>>& out) {
    each(key, [&](const UnitEntry& e) {
      if (e.value.empty()) {
        out = {};
        return;
      }
      size_t at = 0;
      auto cmds = parse_exec(e.value, &at);
      if (!cmds) return problem(e, at, cmds.error());
      for (ExecCommand& c : *cmds) {
        auto path = expand_specifiers(c.path, unit_.name());
        if (!path) return problem(e, c.offset, path.error());
        c.path = *path;
        for (std::string& a : c.argv) {
          auto v = expand_specifiers(a, unit_.name());
          if (!v) return problem(e, c.offset, v.error());
          a = *v;
        }
        if (!out.pos) out.pos = e.value_pos;
        out.value.push_back(std::move(c));
      }
    });
  }

  const UnitFile& unit() const { return unit_; }

 private:
  const UnitFile& unit_;
  std::string section_;
  std::vector<UnitProblem>& problems_;
};

void read_environment(SectionReader& r, ServiceConfig& s) {
  r.each("Environment", [&](const UnitEntry& e) {
    if (e.value.empty()) {
      s.environment = {};
      return;
    }
    size_t at = 0;
    auto words = split_words(e.value, &at);
    if (!words) return r.problem(e, at, words.error());
    for (const Word& w : *words) {
      auto expanded = expand_specifiers(w.text, r.unit().name());
      if (!expanded) return r.problem(e, w.offset, expanded.error());
      size_t eq = expanded->find('=');
      if (eq == std::string::npos || !env_name_is_valid(std::string_view(*expanded).substr(0, eq))) {
        r.problem(e, w.offset, fmt::format("invalid environment assignment '{}'", *expanded));
        continue;
      }
      std::pair<std::string, std::string> kv{expanded->substr(0, eq), expanded->substr(eq + 1)};
      auto& vars = s.environment.value;
      std::erase_if(vars, [&](const auto& p) { return p.first == kv.first; });
      vars.push_back(std::move(kv));
      s.environment.pos = e.value_pos;
    }
  });
  r.each("EnvironmentFile", [&](const UnitEntry& e) {
    if (e.value.empty()) s.environment_files.clear();
    else s.environment_files.push_back(e.value);
  });
}

void read_memory(SectionReader& r, std::string_view key, Located<MemoryLimit>& out, uint64_t ram) {
  r.each(key, [&](const UnitEntry& e) {
    auto m = parse_memory_limit(e.key, e.value, ram);
    if (!m) return r.problem(e, 0, m.error());
    out = {*m, e.value.empty() ? std::nullopt : std::optional<SourcePos>(e.value_pos)};
  });
}

// In file order (unit, then drop-ins), whatever order the keys were read in.
void sort_problems(std::vector<UnitProblem>& problems) {
  std::stable_sort(problems.begin(), problems.end(),
                   [](const UnitProblem& a, const UnitProblem& b) { return a.entry < b.entry; });
}

}  // namespace

uint64_t physical_memory_bytes() {
  auto text = read_text_file("/proc/meminfo");
  if (!text) return 0;
  for (const std::string& line : split(*text, '\n')) {
    if (!line.starts_with("MemTotal:")) continue;
    auto kb = parse_size(trim(std::string_view(line).substr(9, line.find("kB") - 9)));
    return kb ? *kb * 1024 : 0;
  }
  return 0;
}

ServiceConfig read_service(const UnitFile& unit, uint64_t physical_memory) {
  ServiceConfig s;
  SectionReader r(unit, "Service", s.problems);
  uint64_t ram = physical_memory ? physical_memory : physical_memory_bytes();
  r.choice("Type", s.type, {"simple", "exec", "forking", "oneshot", "dbus", "notify", "idle"});
  r.exec("ExecStartPre", s.exec_start_pre);
  r.exec("ExecStart", s.exec_start);
  read_environment(r, s);
  // TimeoutSec= and TimeoutStartSec=/TimeoutStopSec= interleave in file order.
  for (const UnitEntry& e : unit.entries()) {
    if (e.section != "Service") continue;
    if (e.key == "TimeoutSec" || e.key == "TimeoutStartSec")
      r.apply_timespan(e, s.timeout_start_usec, kDefaultTimeoutUsec, true);
    if (e.key == "TimeoutSec" || e.key == "TimeoutStopSec")
      r.apply_timespan(e, s.timeout_stop_usec, kDefaultTimeoutUsec, true);
  }
  r.timespan("RuntimeMaxSec", s.runtime_max_usec, kUsecInfinity, false);
  r.timespan("WatchdogSec", s.watchdog_usec, 0, false);
  r.timespan("RestartSec", s.restart_usec, 100000, false);
  r.choice("Restart", s.restart,
           {"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"});
  r.choice("NotifyAccess", s.notify_access, {"none", "main", "exec", "all"});
  r.each("CPUQuota", [&](const UnitEntry& e) {
    auto q = parse_cpu_quota(e.value);
    if (!q) return r.problem(e, 0, q.error());
    s.cpu_quota_usec_per_sec = {*q, e.value.empty() ? std::nullopt : std::optional<SourcePos>(e.value_pos)};
  });
  read_memory(r, "MemoryMax", s.memory_max, ram);
  read_memory(r, "MemoryHigh", s.memory_high, ram);
  r.text("BusName", s.bus_name);
  // systemd's service_add_extras(): a service with a bus name and no Type=
  // is Type=dbus (ready once the name is taken), not simple.
  if (!s.type.is_set() && s.bus_name.is_set() && !s.bus_name.value.empty()) s.type.value = "dbus";
  r.text("WorkingDirectory", s.working_directory);
  r.text("User", s.user);
  sort_problems(s.problems);
  return s;
}

SocketConfig read_socket(const UnitFile& unit) {
  SocketConfig k;
  SectionReader r(unit, "Socket", k.problems);
  auto listen = [&](std::string_view key, std::vector<Located<std::string>>& out) {
    r.each(key, [&](const UnitEntry& e) {
      if (e.value.empty()) return out.clear();
      auto v = expand_specifiers(e.value, unit.name());
      if (!v) return r.problem(e, 0, v.error());
      out.push_back({*v, e.value_pos});
    });
  };
  listen("ListenStream", k.listen_stream);
  listen("ListenDatagram", k.listen_datagram);
  listen("ListenSequentialPacket", k.listen_sequential_packet);
  r.each("Accept", [&](const UnitEntry& e) {
    if (e.value.empty()) return void(k.accept = {false, {}});
    auto b = parse_boolean(e.value);
    if (!b) return r.problem(e, 0, b.error());
    k.accept = {*b, e.value_pos};
  });
  r.text("Service", k.service);
  sort_problems(k.problems);
  if (k.service.value.empty()) {
    std::string n = unit.name();
    k.service.value = n.substr(0, n.rfind('.')) + ".service";
  }
  return k;
}

std::string ServiceConfig::main_program() const {
  if (exec_start.value.empty()) return "";
  return resolve_exec_path(exec_start.value.front().path);
}

std::optional<std::string> ServiceConfig::env(const std::string& name) const {
  for (const auto& [k, v] : environment.value)
    if (k == name) return v;
  return std::nullopt;
}

}  // namespace coldstart::unit
