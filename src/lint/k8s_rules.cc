// The Kubernetes rules. The kubelet restarts a container once its
// livenessProbe has failed failureThreshold times in a row, probing every
// periodSeconds after initialDelaySeconds; without a startupProbe that
// window is all a start gets. A startupProbe holds liveness (and readiness)
// off until it succeeds, so its own window is what a start gets then.
//
// A start "takes" the measured p99 time-to-ready when --bench gives one for
// the container (matched by container name, or the only result), else the
// stated default of LintContext (30 s: kubelet's default liveness window).
// Under CPU contention a container gets CPU in proportion to its request,
// so with requests.cpu <= limits.cpu / 4 a start may run several times
// slower than measured at the limit: the probe window must leave room
// (we ask for 2x the start).
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

void add(LintReport& report, std::string_view rule_id, SourcePos pos, std::string message, std::string hint) {
  const RuleInfo& r = rule(rule_id);
  report.findings.push_back({std::string(r.id), r.severity, std::move(message), std::move(hint), std::move(pos)});
}

/// The start time to plan for, and a phrase saying where it came from.
std::pair<double, std::string> start_budget(const K8sContainer& c, const LintContext& context) {
  if (auto m = measured_start_for(context.bench, c.name))
    return {m->p99, fmt::format("the measured p99 time-to-ready {} ({})", format_duration(m->p99),
                                context.bench_file)};
  return {context.default_start_seconds,
          fmt::format("the assumed start of {} (no --bench result)", seconds(context.default_start_seconds))};
}

void lint_container(const K8sWorkload& w, const K8sContainer& c, const LintContext& context, LintReport& report) {
  std::string who = fmt::format("{} {}, container '{}'", w.kind, w.name.empty() ? "(unnamed)" : w.name, c.name);
  auto [budget, budget_text] = start_budget(c, context);

  if (c.liveness && !c.startup && c.liveness->window() < budget) {
    const K8sProbe& p = *c.liveness;
    add(report, "k8s-liveness-without-startup-probe", p.pos,
        fmt::format("{}: livenessProbe without startupProbe gives a start {} ({} + {} x {}), less than {}: the "
                    "kubelet restarts it before it is ready",
                    who, seconds(p.window()), seconds(p.initial_delay), seconds(p.period), p.failure_threshold,
                    budget_text),
        fmt::format("add a startupProbe with periodSeconds x failureThreshold >= {} (e.g. periodSeconds: {} "
                    "failureThreshold: {})",
                    seconds(std::ceil(budget * 2)), std::max(1.0, std::ceil(p.period)),
                    std::ceil(budget * 2 / std::max(1.0, std::ceil(p.period)))));
  }
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
  if (c.cpu_limit && c.cpu_request && c.cpu_request->value > 0) {
    double ratio = c.cpu_limit->value / c.cpu_request->value;
    const K8sProbe* killer = c.startup ? &*c.startup : c.liveness ? &*c.liveness : nullptr;
    if (ratio >= 4 && killer && killer->window() < 2 * budget) {
      add(report, "k8s-cpu-request-far-below-limit", c.cpu_request->pos,
          fmt::format("{}: requests.cpu={} is 1/{:g} of limits.cpu={}: under contention the start runs up to {:g}x "
                      "slower, but the {} window is {}, less than twice {}",
                      who, c.cpu_request->text, ratio, c.cpu_limit->text, ratio,
                      c.startup ? "startupProbe" : "livenessProbe", seconds(killer->window()), budget_text),
          fmt::format("raise requests.cpu to at least {:g}, or give the {} a window of {} or more",
                      c.cpu_limit->value / 4, c.startup ? "startupProbe" : "startupProbe",
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
