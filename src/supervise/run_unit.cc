// Mapping a systemd unit onto `coldstart run`'s options.
//
// The rules are systemd v252's (systemd.service(5), systemd.socket(5),
// systemd.resource-control(5)):
//  * Type=notify waits for READY=1; Type=simple/exec count the service as
//    started once it runs, which for a socket-activated or listening service
//    is best observed as "a socket of its tree is in LISTEN state" (--ready
//    listen). forking/oneshot/dbus/idle are refused: run does not emulate them.
//  * NotifyAccess= defaults to "main" for Type=notify (and whenever a watchdog
//    is set), "none" otherwise; coldstart only reads notifications for notify.
//  * TimeoutStartSec=0/infinity and RuntimeMaxSec=infinity mean no limit;
//    WatchdogSec=0 disables the watchdog; RestartSec= is the first back-off.
//  * CPUQuota=P% is P/100 CPU-seconds per second, enforced by systemd with a
//    100 ms period: quota = P% of 100 ms.
//  * The socket unit beside FOO.service is FOO.socket; each ListenStream= is
//    one fd, in order; FileDescriptorName= names them all (default: the socket
//    unit's name, e.g. "foo.socket", as systemd does).
#include "supervise/run_unit.h"

#include <unistd.h>

#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "core/file.h"
#include "core/strings.h"
#include "supervise/unit_user.h"

namespace coldstart::supervise {
// The unit layer's syntax tree and value grammars, read throughout.
using namespace unit;
namespace {

// [Service]/[Socket]/[Unit] keys this mapping acts on (or that only describe).
const std::set<std::string> kSupported = {
    "Service.Type", "Service.ExecStart", "Service.ExecStartPre", "Service.Environment",
    "Service.EnvironmentFile", "Service.WorkingDirectory", "Service.NotifyAccess", "Service.TimeoutStartSec",
    "Service.TimeoutStopSec", "Service.TimeoutSec", "Service.RuntimeMaxSec", "Service.WatchdogSec",
    "Service.Restart", "Service.RestartSec", "Service.CPUQuota", "Service.MemoryHigh", "Service.MemoryMax",
    "Service.User", "Service.Group", "Service.SupplementaryGroups", "Service.DynamicUser",
    "Socket.ListenStream", "Socket.FileDescriptorName", "Socket.Service", "Unit.Description",
    "Unit.Documentation"};

[[noreturn]] void refuse(const SourcePos& pos, const std::string& msg) {
  throw UserError(fmt::format("{}: {}", to_string(pos), msg));
}

// A unit file's time span (µs; kUsecInfinity = none) as a Duration, saturated.
std::optional<Duration> finite(const Located<uint64_t>& v) {
  if (v.value == kUsecInfinity) return std::nullopt;
  return usec(v.value);
}

void list_unsupported(const UnitFile& unit, std::vector<std::string>& out) {
  std::set<std::string> seen(out.begin(), out.end());
  for (const UnitEntry& e : unit.entries()) {
    std::string k = e.section + "." + e.key;
    if (kSupported.count(k) == 0 && seen.insert(k).second) out.push_back(k);
  }
}

std::string unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      if (v.front() == '"' && v[i] == '\\' && i + 2 < v.size()) ++i;
      out += v[i];
    }
    return out;
  }
  return std::string(v);
}

}  // namespace

ListenAddress listen_stream_address(const std::string& value) {
  if (value.empty()) throw UserError("ListenStream=: empty address");
  if (value[0] == '/' || value[0] == '@') return parse_listen_address("unix:" + value);
  if (value.find_first_not_of("0123456789") == std::string::npos) return parse_listen_address("tcp:" + value);
  return parse_listen_address("tcp:" + value);
}

std::vector<std::string> read_environment_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) throw_sys("open", path);
  return parse_environment_text(*text, path);
}

std::vector<std::string> parse_environment_text(std::string_view text, const std::string& path) {
  std::vector<std::string> env;
  std::vector<std::string> lines = split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string line = lines[i];
    size_t first = i;
    while (!line.empty() && line.back() == '\\' && i + 1 < lines.size()) line.pop_back(), line += lines[++i];
    std::string_view t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.starts_with("export ")) t = trim(t.substr(7));
    auto eq = t.find('=');
    std::string name(trim(t.substr(0, eq == std::string_view::npos ? t.size() : eq)));
    if (eq == std::string_view::npos || !env_name_is_valid(name))
      throw UserError(fmt::format("{}:{}: expected NAME=VALUE, got '{}'", path, first + 1, t));
    env.push_back(name + "=" + unquote(trim(t.substr(eq + 1))));
  }
  return env;
}

UnitRunConfig unit_to_options(const UnitFile& unit, const UnitFile* socket_unit) {
  ServiceConfig svc = read_service(unit);
  if (!svc.problems.empty()) refuse(svc.problems[0].pos, svc.problems[0].message);
  UnitRunConfig out;
  SupervisorOptions& o = out.options;
  auto& lc = o.lifecycle;
  const std::string& type = svc.type.value;
  if (type == "notify") {
    o.launch.ready = launch::ReadySpec::parse("notify");
  } else if (type == "simple" || type == "exec") {
    o.launch.ready = launch::ReadySpec::parse("listen");
  } else {
    refuse(svc.type.pos.value_or(svc.bus_name.pos.value_or(SourcePos{unit.path(), 1, 1})),
           fmt::format("Type={} is not supported by coldstart run (notify, simple, exec are)", type));
  }
  lc.ready_by_notify = type == "notify";
  if (svc.exec_start.value.empty()) throw UserError(unit.path() + ": no ExecStart=");
  const ExecCommand& main = svc.exec_start.value[0];
  if (svc.exec_start.value.size() > 1) refuse(*svc.exec_start.pos, "several ExecStart= commands (only Type=oneshot allows that)");
  o.launch.argv = main.argv;
  o.launch.argv[0] = main.path.find('/') == std::string::npos ? resolve_exec_path(main.path) : main.path;
  if (o.launch.argv[0].empty()) refuse(*svc.exec_start.pos, "ExecStart= program '" + main.path + "' not found");
  for (const ExecCommand& pre : svc.exec_start_pre.value) o.pre_commands.push_back({pre.argv, pre.ignore_failure});
  for (const std::string& file : svc.environment_files) {
    bool optional = file.starts_with('-');
    std::string path = optional ? file.substr(1) : file;
    if (optional && ::access(path.c_str(), R_OK) != 0) continue;
    for (auto& kv : read_environment_file(path)) o.launch.env.push_back(std::move(kv));
  }
  // systemd.exec(5): settings from EnvironmentFile= override Environment=,
  // so the files' entries go last (a later entry wins in the launcher).
  std::vector<std::string> env;
  for (const auto& [k, v] : svc.environment.value) env.push_back(k + "=" + v);
  env.insert(env.end(), o.launch.env.begin(), o.launch.env.end());
  o.launch.env = std::move(env);
  if (svc.working_directory.is_set()) {
    std::string wd = svc.working_directory.value;
    if (wd.starts_with('-')) wd = wd.substr(1);
    if (wd == "~") wd = "/root";
    o.launch.cwd = wd;
  }
  if (svc.notify_access.is_set()) {
    auto a = parse_notify_access(svc.notify_access.value);
    if (!a) refuse(*svc.notify_access.pos, "NotifyAccess=" + svc.notify_access.value + " is not main, exec, all or none");
    lc.notify_access = *a;
  }
  lc.timeout_start = finite(svc.timeout_start_usec);
  if (auto stop = finite(svc.timeout_stop_usec)) lc.timeout_stop = *stop;
  lc.runtime_max = finite(svc.runtime_max_usec);
  if (svc.watchdog_usec.value != 0 && svc.watchdog_usec.value != kUsecInfinity)
    lc.watchdog = usec(svc.watchdog_usec.value);
  auto restart = parse_restart_policy(svc.restart.value);
  if (!restart) refuse(*svc.restart.pos, "Restart=" + svc.restart.value + " is not supported (no, on-failure, always are)");
  lc.restart = *restart;
  lc.restart_delay = std::max(usec(svc.restart_usec.value), Duration(1));
  lc.restart_delay_max = std::max(lc.restart_delay, lc.restart_delay_max);
  if (svc.cpu_quota_usec_per_sec.value != kUsecInfinity) {
    launch::CpuMax c;
    c.period = std::chrono::milliseconds(100);
    // CPUQuota= is µs per second; systemd's minimum is 1 ms per period.
    c.quota = std::max<Duration>(usec(svc.cpu_quota_usec_per_sec.value / 10), std::chrono::milliseconds(1));
    o.launch.limits.cpu_max = c;
  }
  if (svc.memory_max.is_set() && !svc.memory_max.value.unlimited) o.launch.limits.memory_max = svc.memory_max.value.bytes;
  if (svc.memory_high.is_set() && !svc.memory_high.value.unlimited) o.launch.limits.memory_high = svc.memory_high.value.bytes;
  o.launch.credentials = unit_credentials(unit);
  list_unsupported(unit, out.unsupported);

  if (socket_unit != nullptr) {
    SocketConfig sock = read_socket(*socket_unit);
    if (!sock.problems.empty()) refuse(sock.problems[0].pos, sock.problems[0].message);
    if (sock.accept.value) refuse(*sock.accept.pos, "Accept=yes (one service per connection) is not supported");
    for (const auto& l : sock.listen_stream) {
      try {
        o.listen.push_back(listen_stream_address(l.value));
      } catch (const UserError& e) {
        refuse(*l.pos, e.what());
      }
    }
    const UnitEntry* name = socket_unit->last("Socket", "FileDescriptorName");
    o.fdnames = {name != nullptr && !name->value.empty() ? name->value : socket_unit->name()};
    list_unsupported(*socket_unit, out.unsupported);
  }
  return out;
}

UnitRunConfig read_unit_for_run(const std::string& path) {
  UnitFile unit = UnitFile::load(path);
  std::optional<UnitFile> socket;
  std::filesystem::path p(path);
  if (p.extension() == ".service") {
    std::filesystem::path sock = p;
    sock.replace_extension(".socket");
    std::error_code ec;
    if (std::filesystem::exists(sock, ec)) socket = UnitFile::load(sock.string());
  }
  return unit_to_options(unit, socket ? &*socket : nullptr);
}

}  // namespace coldstart::supervise
