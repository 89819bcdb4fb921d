// The unit-file rules. Each reads the typed settings of
// unit/unit_file_service.h (so `lint` and `run --unit` agree on what a
// unit means) plus the facts of its ExecStart= binary:
//
//  * Protocols: Type=notify needs READY=1 on $NOTIFY_SOCKET; WatchdogSec=
//    needs WATCHDOG=1 pings (the service learns the interval from
//    $WATCHDOG_USEC); socket activation needs $LISTEN_FDS, except Accept=yes
//    (inetd style: the connection is the service's stdin).
//  * Timeouts: TimeoutStartSec= only bounds a start that has a "ready" event
//    after exec (notify, forking, oneshot, dbus); for simple/exec the start is
//    over at fork/exec, so an infinite one matters only for the former.
//    RuntimeMaxSec= counts from activation and kills a healthy service.
//  * Programs: facts come from the ExecStart= program (lint/facts.h). On a
//    "#!" script the program that runs in the end is unknown, so the rules
//    that read the program are not checked and a note names those that
//    apply; a program that is not on this machine is a note too.
//  * Go: before 1.25 the runtime sets GOMAXPROCS to the host's CPU count
//    whatever the cgroup quota; automaxprocs' rule (floor(quota), >= 1) is
//    the value we suggest. GOMEMLIMIT (Go >= 1.19) is suggested at 90% of
//    the tightest of MemoryHigh=/MemoryMax= (automemlimit's default ratio).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/strings.h"
#include "lint/lint.h"
#include "lint/rules.h"
#include "unit/unit_file_service.h"

namespace coldstart::lint {
namespace {

using namespace unit;

std::string needed_text(const BinaryFacts& bin) {
  if (bin.needed.empty()) return "none";
  return join(bin.needed, ", ");
}

class UnitLinter {
 public:
  UnitLinter(const UnitFile& unit, const LintContext& context, LintReport& report)
      : unit_(unit), context_(context), report_(report) {}

  void add(std::string_view rule_id, SourcePos pos, std::string message, std::string hint = "") {
    const RuleInfo& r = rule(rule_id);
    report_.findings.push_back(
        {std::string(r.id), r.severity, std::move(message), hint.empty() ? std::string(r.hint) : hint, pos});
  }

  /// Where to point for a service-wide finding: the setting, else Type=,
  /// else ExecStart=, else the [Service] header, else the file start.
  template <typename T>
  SourcePos where(const Located<T>& setting, const ServiceConfig& s) const {
    if (setting.pos) return *setting.pos;
    if (s.type.pos) return *s.type.pos;
    if (s.exec_start.pos) return *s.exec_start.pos;
    for (const auto& sec : unit_.sections())
      if (sec.name == "Service") return sec.pos;
    return SourcePos{unit_.path(), 1, 1};
  }

  void syntax_and_values(const std::vector<UnitProblem>& problems) {
    for (const UnitIssue& i : unit_.issues()) add("ignored-line", i.pos, i.message);
    for (const UnitProblem& p : problems)
      add("invalid-value", p.pos, fmt::format("{}=: {}; systemd ignores this assignment", p.key, p.message));
    generic_values(problems);
  }

  void service(const ServiceConfig& s);
  void socket(const SocketConfig& k);

  /// The raw text of the assignment whose value starts at `pos`.
  std::string raw_value(const std::optional<SourcePos>& pos) const {
    for (const UnitEntry& e : unit_.entries())
      if (pos && e.value_pos.file == pos->file && e.value_pos.line == pos->line && e.value_pos.column == pos->column)
        return e.value;
    return "";
  }

 private:
  void generic_values(const std::vector<UnitProblem>& already);
  void protocols(const ServiceConfig& s, const BinaryFacts& bin);
  void timeouts(const ServiceConfig& s, const std::string& program);
  void go_limits(const ServiceConfig& s, const BinaryFacts& bin);
  Result<BinaryFacts> facts_of(const ServiceConfig& s, bool report_missing);
  void script_note(const ServiceConfig& s, const BinaryFacts& bin);
  std::optional<bool> env_has(const ServiceConfig& s, const std::string& name) const;

  const UnitFile& unit_;
  const LintContext& context_;
  LintReport& report_;
};

// Delegate= (systemd.resource-control(5), v252 config_parse_delegate): a
// boolean, or a list of the cgroup controllers to delegate; a word that
// names no controller is ignored with a warning, the others still apply.
std::string delegate_error(const std::string& value, std::string& ignored) {
  if (parse_boolean(value)) return "";
  static const std::set<std::string> controllers = {
      "cpu", "cpuacct", "cpuset", "io", "blkio", "memory", "devices", "pids", "bpf-firewall", "bpf-devices",
      "bpf-foreign", "bpf-socket-bind", "bpf-restrict-network-interfaces"};
  auto words = split_words(value);
  if (!words) return words.error();
  std::vector<std::string> unknown;
  for (const Word& w : *words)
    if (!controllers.count(w.text)) unknown.push_back("'" + w.text + "'");
  if (unknown.empty()) return "";
  ignored = unknown.size() == 1 ? "that word" : "those words";
  return fmt::format("not a boolean, and {} {} no cgroup controller", join(unknown, ", "),
                     unknown.size() == 1 ? "names" : "name");
}

// Settings read_service()/read_socket() do not type, checked by grammar.
void UnitLinter::generic_values(const std::vector<UnitProblem>& already) {
  static const std::set<std::string> timespans = {
      "TimeoutAbortSec", "RuntimeRandomizedExtraSec", "StartLimitIntervalSec", "JobTimeoutSec",
      "JobRunningTimeoutSec", "TriggerLimitIntervalSec", "KeepAliveTimeSec", "KeepAliveIntervalSec",
      "DeferAcceptSec", "TimeoutCleanSec"};
  static const std::set<std::string> memory = {"MemoryMin", "MemoryLow", "MemorySwapMax"};
  static const std::set<std::string> booleans = {
      "RemainAfterExit", "PrivateTmp", "NoNewPrivileges", "DefaultDependencies", "PrivateNetwork",
      "PrivateDevices", "DynamicUser", "CPUAccounting", "MemoryAccounting", "GuessMainPID",
      "RefuseManualStart", "RefuseManualStop", "StopWhenUnneeded", "FreeBind", "Transparent", "ReusePort",
      "KeepAlive", "NoDelay", "RemoveOnStop", "Writable", "PassCredentials", "PassSecurity"};
  std::set<size_t> seen;
  for (const UnitProblem& p : already) seen.insert(p.entry);
  for (size_t i = 0; i < unit_.entries().size(); ++i) {
    const UnitEntry& e = unit_.entries()[i];
    if (seen.count(i) || e.value.empty()) continue;
    std::string error, ignored = "this assignment";
    if (timespans.count(e.key)) {
      if (auto v = parse_timespan(e.value); !v) error = v.error();
    } else if (memory.count(e.key)) {
      if (auto v = parse_memory_limit(e.key, e.value, 1ull << 30); !v) error = v.error();
    } else if (booleans.count(e.key)) {
      if (auto v = parse_boolean(e.value); !v) error = v.error();
    } else if (e.key == "Delegate") {
      error = delegate_error(e.value, ignored);
    }
    if (!error.empty())
      add("invalid-value", e.value_pos, fmt::format("{}=: {}; systemd ignores {}", e.key, error, ignored));
  }
}

Result<BinaryFacts> UnitLinter::facts_of(const ServiceConfig& s, bool report_missing) {
  if (s.exec_start.value.empty()) return unexpected("no ExecStart=");
  const ExecCommand& cmd = s.exec_start.value.front();
  std::string program = resolve_exec_path(cmd.path);
  Result<BinaryFacts> facts =
      program.empty() ? Result<BinaryFacts>(unexpected(fmt::format("{} not found in systemd's search path", cmd.path)))
                      : context_.probe(program);
  if (!facts && report_missing)
    add("binary-not-found", s.exec_start.pos.value_or(SourcePos{unit_.path(), 1, 1}),
        fmt::format("not checked: {}; the rules that read the program were skipped", facts.error()));
  return facts;
}

void UnitLinter::service(const ServiceConfig& s) {
  Result<BinaryFacts> bin = facts_of(s, true);
  if (bin && bin->is_script()) {
    script_note(s, *bin);
  } else if (bin) {
    protocols(s, *bin);
    go_limits(s, *bin);
  }
  timeouts(s, s.exec_start.value.empty() ? "" : s.exec_start.value.front().path);
}

// The rules a script hides: what it runs in the end is unknown (a wrapper
// may exec a Go binary that speaks sd_notify). Only the rules that would
// apply to this unit are named; none, no note.
void UnitLinter::script_note(const ServiceConfig& s, const BinaryFacts& bin) {
  const std::string& type = s.type.value;
  std::vector<std::string> skipped;
  if (type == "notify") skipped.emplace_back("notify-without-support");
  if (s.watchdog_usec.value != 0 && s.watchdog_usec.value != kUsecInfinity)
    skipped.emplace_back("watchdog-without-support");
  if (type == "simple" || type == "exec") skipped.emplace_back("simple-but-notifies");
  if (s.cpu_quota_usec_per_sec.value != kUsecInfinity) skipped.emplace_back("go-cpu-quota-without-gomaxprocs");
  if ((s.memory_max.is_set() && !s.memory_max.value.unlimited) ||
      (s.memory_high.is_set() && !s.memory_high.value.unlimited))
    skipped.emplace_back("go-memory-limit-without-gomemlimit");
  if (skipped.empty()) return;
  const auto& [script, shebang] = bin.scripts.front();
  add("script-not-checked", s.exec_start.pos.value_or(where(s.type, s)),
      fmt::format("{} is a script ({}, run by {}): not checked on a script: {}", script, shebang, bin.path,
                  join(skipped, ", ")));
}

void UnitLinter::protocols(const ServiceConfig& s, const BinaryFacts& bin) {
  const std::string& type = s.type.value;
  if (type == "notify" && !bin.speaks_notify) {
    add("notify-without-support", where(s.type, s),
        fmt::format("Type=notify, but neither {} nor a library it needs ({}) has a NOTIFY_SOCKET string: systemd {}",
                    bin.path, needed_text(bin),
                    s.timeout_start_usec.value == kUsecInfinity
                        ? std::string("waits forever for READY=1 (TimeoutStartSec=infinity)")
                        : fmt::format("waits TimeoutStartSec={} for READY=1, then kills it",
                                      format_timespan(s.timeout_start_usec.value))));
  }
  if (s.watchdog_usec.value != 0 && s.watchdog_usec.value != kUsecInfinity && !bin.speaks_watchdog) {
    add("watchdog-without-support", where(s.watchdog_usec, s),
        fmt::format("WatchdogSec={}, but neither {} nor a library it needs ({}) has a WATCHDOG_USEC string: "
                    "systemd kills it {} after it started",
                    format_timespan(s.watchdog_usec.value), bin.path, needed_text(bin),
                    format_timespan(s.watchdog_usec.value)));
  }
  if ((type == "simple" || type == "exec") && bin.speaks_notify && bin.sends_ready) {
    add("simple-but-notifies", where(s.type, s),
        fmt::format("Type={}{}, but {} sends READY=1 ({}; {}): systemd calls it started at {} instead of at "
                    "READY=1",
                    type, s.type.is_set() ? "" : " (the default)", bin.path, bin.ready_evidence, bin.notify_evidence,
                    type == "simple" ? "fork" : "exec"));
  }
}

void UnitLinter::timeouts(const ServiceConfig& s, const std::string& program) {
  const std::string& type = s.type.value;
  bool has_ready_event = type == "notify" || type == "forking" || type == "oneshot" || type == "dbus";
  if (s.runtime_max_usec.is_set() && s.runtime_max_usec.value != kUsecInfinity && type != "oneshot") {
    add("runtime-max-is-not-a-start-timeout", *s.runtime_max_usec.pos,
        fmt::format("RuntimeMaxSec={} stops this Type={} service {} after it started, healthy or not; it is not "
                    "a start-up timeout",
                    format_timespan(s.runtime_max_usec.value), type, format_timespan(s.runtime_max_usec.value)));
  }
  if (s.timeout_start_usec.is_set() && s.timeout_start_usec.value == kUsecInfinity && has_ready_event) {
    add("timeout-start-infinite", *s.timeout_start_usec.pos,
        fmt::format("TimeoutStartSec={} on a Type={} service: a start that hangs before {} is never detected",
                    raw_value(s.timeout_start_usec.pos),
                    type, type == "notify" ? "READY=1" : "it is up"));
  }
  if (context_.bench.empty() || !has_ready_event || s.timeout_start_usec.value == kUsecInfinity) return;
  auto measured = measured_start_for(context_.bench, program);
  if (!measured) return;
  double timeout = us_to_s(s.timeout_start_usec.value);
  if (timeout < measured->p99) {
    add("timeout-start-below-p99", where(s.timeout_start_usec, s),
        fmt::format("TimeoutStartSec={}{} is shorter than the measured p99 time-to-ready {} ({}: {} runs of '{}')",
                    format_timespan(s.timeout_start_usec.value), s.timeout_start_usec.is_set() ? "" : " (default)",
                    format_duration(measured->p99), measured->file, measured->runs, measured->command),
        fmt::format("set TimeoutStartSec= to at least {} (3 x p99), or make the start faster",
                    format_timespan(static_cast<uint64_t>(std::ceil(measured->p99 * 3 * 1000)) * 1000)));
  }
}

// true/false if we can tell whether NAME is in the service's environment,
// nullopt when an EnvironmentFile= cannot be read.
std::optional<bool> UnitLinter::env_has(const ServiceConfig& s, const std::string& name) const {
  if (s.env(name)) return true;
  for (std::string f : s.environment_files) {
    bool optional = f.starts_with("-");
    if (optional) f.erase(0, 1);
    auto text = read_text_file(f);
    if (!text) {
      if (optional) continue;
      return std::nullopt;
    }
    for (const std::string& line : split(*text, '\n')) {
      std::string_view l = trim(line);
      if (l.starts_with("export ")) l = trim(l.substr(7));
      if (l.starts_with(name + "=")) return true;
    }
  }
  return false;
}

void UnitLinter::go_limits(const ServiceConfig& s, const BinaryFacts& bin) {
  if (!bin.is_go) return;
  auto release = bin.go_release();
  std::string go = bin.go_version.empty() ? "Go" : bin.go_version;
  uint64_t quota = s.cpu_quota_usec_per_sec.value;
  bool before_125 = !release || *release < std::make_pair(1, 25);
  if (quota != kUsecInfinity && before_125 && env_has(s, "GOMAXPROCS") == false) {
    unsigned host = context_.host_cpus ? context_.host_cpus : static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN));
    uint64_t procs = std::max<uint64_t>(1, quota / kUsecPerSec);
    add("go-cpu-quota-without-gomaxprocs", *s.cpu_quota_usec_per_sec.pos,
        fmt::format("CPUQuota={} allows {:.2f} CPUs, but {} ({}) sets GOMAXPROCS to the host's {} CPUs: it runs "
                    "{} Ps on {:.2f} CPUs of quota and is throttled; GOMAXPROCS should be {}",
                    raw_value(s.cpu_quota_usec_per_sec.pos), us_to_s(quota), bin.path, go, host,
                    host, us_to_s(quota), procs),
        fmt::format("add Environment=GOMAXPROCS={} (or build with Go >= 1.25)", procs));
  }
  const Located<MemoryLimit>* tightest = nullptr;
  for (const auto* m : {&s.memory_high, &s.memory_max})
    if (m->is_set() && !m->value.unlimited && (!tightest || m->value.bytes < tightest->value.bytes)) tightest = m;
  if (tightest && env_has(s, "GOMEMLIMIT") == false) {
    uint64_t mib = tightest->value.bytes * 9 / 10 / (1024 * 1024);
    bool supported = !release || *release >= std::make_pair(1, 19);
    std::string key = tightest == &s.memory_high ? "MemoryHigh" : "MemoryMax";
    add("go-memory-limit-without-gomemlimit", *tightest->pos,
        fmt::format("{}={} ({}) on {} ({}) without GOMEMLIMIT: the Go GC grows the heap to twice the live data, "
                    "unaware of the limit",
                    key, raw_value(tightest->pos), format_bytes(tightest->value.bytes), bin.path, go),
        supported ? fmt::format("add Environment=GOMEMLIMIT={}MiB (90% of the limit)", mib)
                  : fmt::format("{} has no GOMEMLIMIT (Go >= 1.19): upgrade, or leave headroom", go));
  }
}

void UnitLinter::socket(const SocketConfig& k) {
  if (k.accept.value) return;  // inetd style: the connection is stdin, no LISTEN_FDS
  if (k.listen_stream.empty() && k.listen_datagram.empty() && k.listen_sequential_packet.empty()) return;
  std::filesystem::path service_path = std::filesystem::path(unit_.path()).parent_path() / k.service.value;
  if (!std::filesystem::exists(service_path)) return;
  UnitFile service_unit;
  try {
    service_unit = UnitFile::load(service_path.string());
  } catch (const UserError&) {
    return;  // the service is reported when it is linted itself
  }
  ServiceConfig s = read_service(service_unit);
  Result<BinaryFacts> bin = facts_of(s, false);
  if (!bin || bin->speaks_listen_fds) return;
  SourcePos pos = k.service.pos ? *k.service.pos
                  : !k.listen_stream.empty() ? *k.listen_stream.front().pos
                  : !k.listen_datagram.empty() ? *k.listen_datagram.front().pos
                                               : *k.listen_sequential_packet.front().pos;
  if (bin->is_script()) {
    add("script-not-checked", pos,
        fmt::format("{} runs {}, a script ({}): not checked on a script: socket-without-listen-fds", k.service.value,
                    bin->scripts.front().first, bin->scripts.front().second));
    return;
  }
  add("socket-without-listen-fds", pos,
      fmt::format("{} passes its socket to {}, but neither {} nor a library it needs ({}) has a LISTEN_FDS string: "
                  "it will not use the passed socket",
                  unit_.name(), k.service.value, bin->path, needed_text(*bin)));
}

}  // namespace

void lint_unit(const UnitFile& unit, const LintContext& context, LintReport& report) {
  UnitLinter linter(unit, context, report);
  std::string name = unit.name();
  if (name.ends_with(".socket")) {
    SocketConfig k = read_socket(unit);
    linter.syntax_and_values(k.problems);
    linter.socket(k);
    return;
  }
  ServiceConfig s = read_service(unit);
  linter.syntax_and_values(s.problems);
  if (unit.has_section("Service")) linter.service(s);
}

}  // namespace coldstart::lint
