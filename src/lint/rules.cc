#include "lint/rules.h"

#include <stdexcept>
#include <string>

namespace coldstart::lint {
namespace {

using enum Severity;

constexpr RuleInfo kRules[] = {
    {"notify-without-support", kError, "unit",
     "Type=notify, but the ExecStart= binary shows no sd_notify support (no NOTIFY_SOCKET string): systemd waits "
     "TimeoutStartSec= for a READY=1 that never comes, then kills the service",
     "use Type=exec, or make the service send READY=1 to $NOTIFY_SOCKET once it can serve"},
    {"watchdog-without-support", kError, "unit",
     "WatchdogSec= is set, but the ExecStart= binary shows no WATCHDOG_USEC support: systemd kills it after the "
     "first watchdog interval",
     "remove WatchdogSec=, or send WATCHDOG=1 to $NOTIFY_SOCKET at half of $WATCHDOG_USEC"},
    {"simple-but-notifies", kWarning, "unit",
     "Type=simple/exec, but the binary speaks sd_notify: systemd calls it started before it is ready, so units "
     "ordered after it start too early",
     "use Type=notify"},
    {"runtime-max-is-not-a-start-timeout", kWarning, "unit",
     "RuntimeMaxSec= on a long-running service: it kills the service after that much total run time, it does not "
     "limit the start",
     "use TimeoutStartSec= to bound the start; drop RuntimeMaxSec="},
    {"timeout-start-below-p99", kError, "unit",
     "TimeoutStartSec= is shorter than the measured p99 time-to-ready (--bench): about 1 start in 100 is killed",
     "raise TimeoutStartSec= above the p99 with headroom, or make the start faster"},
    {"timeout-start-infinite", kWarning, "unit",
     "TimeoutStartSec=infinity (or 0): a start that hangs is never detected or restarted",
     "set TimeoutStartSec= to a few times the measured p99 time-to-ready"},
    {"socket-without-listen-fds", kError, "unit",
     "a .socket unit activates a service whose binary shows no LISTEN_FDS support: the service ignores the passed "
     "socket and binds its own (or fails with EADDRINUSE)",
     "make the service accept sockets from $LISTEN_FDS (sd_listen_fds), or drop the .socket unit"},
    {"go-cpu-quota-without-gomaxprocs", kWarning, "unit",
     "CPUQuota= on a Go binary older than 1.25 without GOMAXPROCS: Go runs one P per host CPU and the quota "
     "throttles it",
     "set Environment=GOMAXPROCS=<quota in CPUs, at least 1>, or build with Go >= 1.25"},
    {"go-memory-limit-without-gomemlimit", kWarning, "unit",
     "MemoryMax=/MemoryHigh= on a Go binary without GOMEMLIMIT: the Go GC does not know the limit and the service "
     "is reclaimed or OOM-killed before it collects",
     "set Environment=GOMEMLIMIT=<about 90% of the limit>"},
    {"invalid-value", kError, "unit",
     "a value systemd rejects (bad time span, size, percentage, word or choice): systemd ignores the line with a "
     "warning and the default applies",
     "fix the value (see systemd.time(7), systemd.resource-control(5))"},
    {"ignored-line", kWarning, "unit",
     "a line systemd ignores (no '=', or an assignment before any [Section])",
     "put Key=Value lines under a [Section] header"},
    {"binary-not-found", kNote, "unit",
     "the ExecStart= program (or the interpreter its #! line names) is not on this machine, or is neither an ELF "
     "file nor a script: the rules that read the program were skipped",
     "run lint where the service's programs are installed"},
    {"script-not-checked", kNote, "unit",
     "the ExecStart= program is a #! script: what it runs in the end is not known, so the rules that read the "
     "program (sd_notify, watchdog, LISTEN_FDS, Go) were not checked",
     "check the program the script runs: lint a unit whose ExecStart= names it, or exec it from the script"},
    {"unit-masked", kNote, "unit",
     "the unit file is a symlink to /dev/null or empty: systemd treats it as masked and never starts it",
     "nothing to do if masking is intended; otherwise remove the mask (systemctl unmask)"},
    {"k8s-liveness-without-startup-probe", kWarning, "kubernetes",
     "livenessProbe without startupProbe: its window (initialDelaySeconds + periodSeconds x failureThreshold) is all "
     "a start gets before the kubelet restarts the container; a warning under 60 s, a note above, an error when the "
     "measured p99 start (--bench) reaches it",
     "add a startupProbe whose window covers the p99 start, or lengthen the livenessProbe window"},
    {"k8s-startup-probe-too-short", kWarning, "kubernetes",
     "a startupProbe whose window (initialDelaySeconds + periodSeconds x failureThreshold) is under 60 s without a "
     "measurement that the start fits, or (an error) at or below the measured p99 start: slow starts are killed and "
     "restarted, forever",
     "make periodSeconds x failureThreshold several times the p99 start"},
    {"k8s-no-readiness-probe", kWarning, "kubernetes",
     "a container with ports but no readinessProbe: it receives traffic as soon as it is running, before it is "
     "ready",
     "add a readinessProbe on the port it serves"},
    {"k8s-cpu-limit-without-gomaxprocs", kNote, "kubernetes",
     "limits.cpu without GOMAXPROCS in env: a Go service older than 1.25 runs one P per node CPU and is throttled",
     "set env GOMAXPROCS to the limit in whole CPUs (at least 1), if the image is Go < 1.25"},
    {"k8s-memory-limit-without-gomemlimit", kNote, "kubernetes",
     "limits.memory without GOMEMLIMIT in env: a Go service's GC does not know the limit",
     "set env GOMEMLIMIT to about 90% of limits.memory, if the image is Go"},
    {"k8s-cpu-request-far-below-limit", kWarning, "kubernetes",
     "requests.cpu is less than a quarter of limits.cpu while probes allow little time: under contention the start "
     "runs at the request's share and the probe kills it",
     "raise requests.cpu for the start, or give the probes a window of several times the p99 start"},
};

}  // namespace

std::span<const RuleInfo> rules() { return kRules; }

size_t rule_index(std::string_view id) {
  for (size_t i = 0; i < std::size(kRules); ++i)
    if (kRules[i].id == id) return i;
  throw std::out_of_range("unknown lint rule " + std::string(id));
}

const RuleInfo& rule(std::string_view id) { return kRules[rule_index(id)]; }

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kNote: return "note";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
  }
  return "warning";
}

}  // namespace coldstart::lint
