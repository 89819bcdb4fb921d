// `coldstart run`: options -> SupervisorOptions (a unit file first, then the
// flags on top), supervise(), then the start-up timeline (human or JSON;
// report/run_export.h prints both).
// Supervisor log lines go to stderr, timestamped like a supervisor's.
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/launch_flags.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/file.h"
#include "core/strings.h"
#include "report/prometheus.h"
#include "report/run_export.h"
#include "supervise/run_unit.h"
#include "supervise/supervisor.h"

namespace coldstart::cli {
namespace {


struct RunArgs {
  std::string unit;
  LaunchFlags launch;  // --ready (default notify), --env, --cwd, --cpu-max, --memory-*
  std::vector<std::string> listen;
  std::vector<std::string> fdnames;
  bool lazy = false;
  std::string idle_stop;
  bool boost = false;
  std::string timeout_start, runtime_max, watchdog, timeout_stop;
  std::string restart, notify_access;
  int restart_limit = -1;
  std::string prewarm;
  bool json = false;
  std::string export_json;
  std::string export_prometheus;
  std::vector<std::string> command;
};

std::optional<Duration> duration_flag_if_set(const std::string& text, const char* flag) {
  if (text.empty()) return std::nullopt;
  return duration_flag(flag, text);
}

// The flags, applied over whatever the unit file set.
void apply_flags(const RunArgs& a, supervise::SupervisorOptions& o) {
  if (!a.command.empty()) o.launch.argv = a.command;
  if (o.launch.argv.empty()) throw UserError("run: no command; give -- PROG ARGS... or --unit FILE");
  apply_launch_flags(a.launch, o.launch);
  for (const auto& l : a.listen)
    o.listen.push_back(with_flag("--listen", l, [&] { return supervise::parse_listen_address(l); }));
  if (!a.fdnames.empty()) o.fdnames = a.fdnames;
  auto& lc = o.lifecycle;
  lc.lazy = lc.lazy || a.lazy;
  if (auto d = duration_flag_if_set(a.idle_stop, "--idle-stop")) lc.idle_stop = d;
  if (auto d = duration_flag_if_set(a.timeout_start, "--timeout-start")) lc.timeout_start = d;
  if (auto d = duration_flag_if_set(a.runtime_max, "--runtime-max")) lc.runtime_max = d;
  if (auto d = duration_flag_if_set(a.watchdog, "--watchdog")) lc.watchdog = d;
  if (auto d = duration_flag_if_set(a.timeout_stop, "--timeout-stop")) lc.timeout_stop = *d;
  if (!a.restart.empty()) {
    auto r = supervise::parse_restart_policy(a.restart);
    if (!r) throw UserError("--restart " + a.restart + ": expected no, on-failure or always");
    lc.restart = *r;
  }
  if (a.restart_limit >= 0) lc.restart_limit = a.restart_limit;
  if (!a.notify_access.empty()) {
    auto n = supervise::parse_notify_access(a.notify_access);
    if (!n) throw UserError("--notify-access " + a.notify_access + ": expected main, exec, all or none");
    lc.notify_access = *n;
  }
  if (a.boost) {
    if (!o.launch.limits.cpu_max) throw UserError("--boost-until-ready needs a CPU limit (--cpu-max or CPUQuota=)");
    lc.boost_until_ready = true;
    o.cpu_max_after_ready = o.launch.limits.cpu_max;
  }
  if (!a.prewarm.empty()) o.prewarm_manifest = a.prewarm;
  lc.ready_by_notify = o.launch.ready.kind == launch::ProbeKind::kNotify;
}

// "13:55:01.123456 coldstart[1234] +0.002345s: started main pid 1235"
void log_line(int64_t begin_ns, int64_t now_ns, std::string_view line) {
  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  tm local{};
  ::localtime_r(&tv.tv_sec, &local);
  std::string text = fmt::format("{:02}:{:02}:{:02}.{:06} coldstart[{}] +{:.6f}s: {}\n", local.tm_hour, local.tm_min,
                                 local.tm_sec, tv.tv_usec, ::getpid(), ns_to_s(now_ns - begin_ns), line);
  std::fputs(text.c_str(), stderr);
}

int run_command(const RunArgs& a) {
  check_output_path(a.export_json, "--export-json");
  check_output_path(a.export_prometheus, "--export-prometheus");
  supervise::SupervisorOptions o;
  o.launch.output = launch::OutputMode::kInherit;
  o.launch.ready = launch::ReadySpec::parse("notify");
  std::vector<std::string> unsupported;
  int64_t begin = monotonic_ns();
  auto log = [&begin](int64_t now, std::string_view line) { log_line(begin, now, line); };
  if (!a.unit.empty()) {
    supervise::UnitRunConfig u = supervise::read_unit_for_run(a.unit);
    o = std::move(u.options);
    o.launch.output = launch::OutputMode::kInherit;
    unsupported = u.unsupported;
    if (!unsupported.empty()) log(begin, "unit keys not supported by coldstart run (ignored): " + join(unsupported, ", "));
  }
  apply_flags(a, o);
  if (o.launch.ready.kind == launch::ProbeKind::kLog) o.launch.output = launch::OutputMode::kCapture;
  supervise::SupervisorReport r = supervise::supervise(o, log);
  if (a.json) {
    std::printf("%s\n", report::run_json(r, unsupported).dump(2).c_str());
  } else {
    std::fputs(report::run_timeline_text(r).c_str(), stdout);
  }
  if (!a.export_json.empty()) write_file_atomic(a.export_json, report::run_json(r, unsupported).dump(2) + "\n");
  if (!a.export_prometheus.empty()) report::export_prometheus(a.export_prometheus, report::run_ready_series(r, o.launch.argv));
  std::fflush(stdout);
  return r.exit_code;
}

}  // namespace

CommandRunner setup_run(CLI::App& sub) {
  auto a = std::make_shared<RunArgs>();
  sub.add_option("--unit", a->unit, "a systemd .service file (its .socket beside it gives ListenStream=)");
  // Its ready timeout is --timeout-start (systemd's TimeoutStartSec=).
  add_launch_flags(sub, a->launch, {.default_ready = "notify", .ready_timeout = false});
  sub.add_option("--listen", a->listen, "socket activation: tcp:HOST:PORT or unix:PATH, passed as fd 3, 4, ...");
  sub.add_option("--fdname", a->fdnames, "LISTEN_FDNAMES entry: one for all sockets, or one per --listen");
  sub.add_flag("--lazy", a->lazy, "start the service at the first connection (the kernel queues it)");
  sub.add_option("--idle-stop", a->idle_stop, "stop the service after S without open connections; keep listening");
  sub.add_flag("--boost-until-ready", a->boost, "run the start-up without the CPU limit; apply it when ready");
  sub.add_option("--timeout-start", a->timeout_start, "not ready within S: stop it and fail");
  sub.add_option("--runtime-max", a->runtime_max, "stop it S after it became ready");
  sub.add_option("--watchdog", a->watchdog, "WATCHDOG_USEC for the service; no WATCHDOG=1 within S: SIGABRT");
  sub.add_option("--timeout-stop", a->timeout_stop, "after SIGTERM/SIGABRT, SIGKILL the cgroup after S (default 5s)");
  sub.add_option("--restart", a->restart, "no | on-failure | always");
  sub.add_option("--restart-limit", a->restart_limit, "give up after N restarts in a row (default 5)");
  sub.add_option("--notify-access", a->notify_access, "main (default) | exec | all | none");
  sub.add_option("--prewarm", a->prewarm, "load the pages of this manifest before each start");
  sub.add_flag("--json", a->json, "print the timeline as JSON");
  sub.add_option("--export-json", a->export_json, "write the timeline as JSON to FILE");
  sub.add_option("--export-prometheus", a->export_prometheus,
                 "write time-to-ready for node_exporter's textfile collector (FILE.prom)");
  sub.add_option("COMMAND", a->command, "-- PROG ARGS... (or ExecStart= of --unit)");
  sub.positionals_at_end();  // after "--" or PROG, every word is the service's, its options included
  return [a]() { return run_command(*a); };
}

}  // namespace coldstart::cli
