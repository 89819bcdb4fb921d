// The Kubernetes rules. The kubelet restarts a container once its
// livenessProbe has failed failureThreshold times in a row, probing every
// periodSeconds after initialDelaySeconds; without a startupProbe that
// window is all a start gets. A startupProbe holds liveness (and readiness)
// off until it succeeds, so its own window is what a start gets then.
//
// Probe windows: a livenessProbe without startupProbe is always reported
// with the window it gives a start (a warning under 60 s, a note above); a
// startupProbe under 60 s is a warning. Both become errors when the start
// time known for the container, the measured p99 time-to-ready (--bench,
// matched by container name, or the only result) or --assume-start, reaches
// the window; a startupProbe that covers the known start is not reported.
// Under CPU contention a container gets CPU in proportion to its request,
// so with requests.cpu < limits.cpu / 4 a start may run several times
// slower than measured at the limit: the probe window must leave room
// (we ask for 2x the start; 30 s, the kubelet's default window, when no
// start time is known).
//
// The image is not inspected, so the Go rules are notes: GOMAXPROCS before
// Go 1.25 is the node's CPU count, GOMEMLIMIT is unset.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/strings.h"
#include "lint/k8s_manifest.h"
#include "lint/lint.h"
#include "lint/rules.h"

namespace coldstart::lint {
namespace {

std::string seconds(double s) { return fmt::format("{:g}s", s); }

// Without a measurement, a window under a minute is short: starts that
// usually take seconds take tens of seconds on a cold or busy node.
constexpr double kShortWindowSeconds = 60;
// The kubelet's window with every probe field defaulted: 0 + 10 s x 3.
constexpr double kDefaultLivenessWindow = 30;

void add(LintReport& report, std::string_view rule_id, SourcePos pos, std::string message, std::string hint,
         std::optional<Severity> severity = std::nullopt) {
  const RuleInfo& r = rule(rule_id);
  report.findings.push_back(
      {std::string(r.id), severity.value_or(r.severity), std::move(message), std::move(hint), std::move(pos)});
}

/// A start time that judges a probe window: the measured p99 of the
/// container (--bench), else --assume-start; nullopt when neither says.
struct StartTime {
  double seconds = 0;
  std::string text;  // "the measured p99 time-to-ready 41.2s (b.json: 20 runs)"
};

std::optional<StartTime> known_start(const K8sContainer& c, const LintContext& context) {
  if (auto m = measured_start_for(context.bench, c.name))
    return StartTime{m->p99, fmt::format("the measured p99 time-to-ready {} ({}: {} runs of '{}')",
                                         format_duration(m->p99), m->file, m->runs, m->command)};
  if (context.assume_start)
    return StartTime{*context.assume_start, fmt::format("the assumed start of {} (--assume-start)",
                                                        seconds(*context.assume_start))};
  return std::nullopt;
}

std::string window_text(const K8sProbe& p) {
  return fmt::format("{} ({} + {} x {:g})", seconds(p.window()), seconds(p.initial_delay), seconds(p.period),
                     p.failure_threshold);
}

/// periodSeconds/failureThreshold that give `target` seconds at the probe's period.
std::string probe_fix(const K8sProbe& p, double target) {
  double period = std::max(1.0, std::ceil(p.period));
  return fmt::format("periodSeconds: {:g}, failureThreshold: {:g} ({})", period, std::ceil(target / period),
                     seconds(period * std::ceil(target / period)));
}

// The window without startupProbe is always worth knowing: it is what a slow
// start (cold cache, a busy node, a migration) gets before the restart loop.
void liveness_window(const std::string& who, const K8sContainer& c, const std::optional<StartTime>& start,
                     LintReport& report) {
  const K8sProbe& p = *c.liveness;
  double w = p.window();
  Severity severity = w < kShortWindowSeconds ? Severity::kWarning : Severity::kNote;
  std::string why;
  if (start && start->seconds >= w) {
    severity = Severity::kError;
    why = fmt::format(", and {} reaches it: the kubelet restarts the container before it is ready", start->text);
  } else if (start) {
    why = fmt::format("; {} fits", start->text);
  }
  double target = std::max(2 * (start ? start->seconds : 0), kShortWindowSeconds * 2);
  add(report, "k8s-liveness-without-startup-probe", p.pos,
      fmt::format("{}: livenessProbe without startupProbe: the kubelet restarts this container if its start takes "
                  "over {}{}",
                  who, window_text(p), why),
      fmt::format("add a startupProbe (same check) with {}; the livenessProbe then starts after it", probe_fix(p, target)),
      severity);
}

void startup_window(const std::string& who, const K8sContainer& c, const std::optional<StartTime>& start,
                    LintReport& report) {
  const K8sProbe& p = *c.startup;
  double w = p.window();
  if (start && start->seconds >= w) {
    add(report, "k8s-startup-probe-too-short", p.pos,
        fmt::format("{}: the startupProbe gives a start {}, but {} reaches it: slow starts are killed and restarted",
                    who, window_text(p), start->text),
        fmt::format("give the startupProbe {}", probe_fix(p, 3 * start->seconds)), Severity::kError);
  } else if (!start && w < kShortWindowSeconds) {
    add(report, "k8s-startup-probe-too-short", p.pos,
        fmt::format("{}: the startupProbe gives a start only {}: a start slower than that (a cold node, a busy "
                    "CPU) is killed and restarted; no --bench result says the start fits",
                    who, window_text(p)),
        fmt::format("give the startupProbe {}, or pass --bench with a measured start", probe_fix(p, 2 * kShortWindowSeconds)),
        Severity::kWarning);
  }
}

void lint_container(const K8sWorkload& w, const K8sContainer& c, const LintContext& context, LintReport& report) {
  std::string who = fmt::format("{} {}, container '{}'", w.kind, w.name.empty() ? "(unnamed)" : w.name, c.name);
  std::optional<StartTime> start = known_start(c, context);
  if (c.startup) startup_window(who, c, start, report);
  else if (c.liveness) liveness_window(who, c, start, report);
  if (!c.init && c.has_ports && !c.readiness) {
    add(report, "k8s-no-readiness-probe", c.pos,
        fmt::format("{} has ports but no readinessProbe: it gets traffic as soon as it runs, before it is ready",
                    who),
        "add a readinessProbe on the port it serves");
  }
  if (c.cpu_limit && !c.env_from && !c.env_has("GOMAXPROCS")) {
    double cpus = c.cpu_limit->value;
    long procs = std::max(1L, static_cast<long>(std::floor(cpus)));
    add(report, "k8s-cpu-limit-without-gomaxprocs", c.cpu_limit->pos,
        fmt::format("{}: limits.cpu={} ({:g} CPUs) without GOMAXPROCS: if the image is Go < 1.25 it runs one P per "
                    "node CPU and is throttled",
                    who, c.cpu_limit->text, cpus),
        fmt::format("env: - name: GOMAXPROCS value: \"{}\"", procs));
  }
  if (c.memory_limit && !c.env_from && !c.env_has("GOMEMLIMIT")) {
    uint64_t mib = static_cast<uint64_t>(c.memory_limit->value * 0.9 / (1024 * 1024));
    add(report, "k8s-memory-limit-without-gomemlimit", c.memory_limit->pos,
        fmt::format("{}: limits.memory={} without GOMEMLIMIT: if the image is Go its GC does not know the limit",
                    who, c.memory_limit->text),
        fmt::format("env: - name: GOMEMLIMIT value: \"{}MiB\" (90% of the limit)", mib));
  }
  // Kubernetes schedules CPU in millicores (finer values are rounded up), so
  // compare those: 125m against a 500m limit is a quarter, not "0.1249...".
  if (c.cpu_limit && c.cpu_request && c.cpu_request->value > 0) {
    auto milli = [](double cpus) { return static_cast<long long>(std::ceil(cpus * 1000 - 1e-6)); };
    long long limit_m = milli(c.cpu_limit->value), request_m = milli(c.cpu_request->value);
    const K8sProbe* killer = c.startup ? &*c.startup : c.liveness ? &*c.liveness : nullptr;
    double budget = start ? start->seconds : kDefaultLivenessWindow;
    std::string budget_text = start ? start->text : fmt::format("the kubelet's default window of {}",
                                                                seconds(kDefaultLivenessWindow));
    if (request_m * 4 < limit_m && killer && killer->window() < 2 * budget) {
      double ratio = static_cast<double>(limit_m) / static_cast<double>(request_m);
      add(report, "k8s-cpu-request-far-below-limit", c.cpu_request->pos,
          fmt::format("{}: requests.cpu={} is 1/{:.3g} of limits.cpu={}: under contention the start runs up to "
                      "{:.3g}x slower, but the {} window is {}, less than twice {}",
                      who, c.cpu_request->text, ratio, c.cpu_limit->text, ratio,
                      c.startup ? "startupProbe" : "livenessProbe", seconds(killer->window()), budget_text),
          fmt::format("raise requests.cpu to at least {}m (a quarter of the limit), or give the {} a window of {} or "
                      "more",
                      (limit_m + 3) / 4, c.startup ? "startupProbe" : "startupProbe",
                      seconds(std::ceil(budget * ratio))));
    }
  }
}

}  // namespace

void lint_workloads(const std::vector<K8sWorkload>& workloads, const LintContext& context, LintReport& report) {
  for (const K8sWorkload& w : workloads)
    for (const K8sContainer& c : w.containers) lint_container(w, c, context, report);
}

}  // namespace coldstart::lint
