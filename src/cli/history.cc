// coldstart history: list the bench sessions stored by bench --save.
#include <sys/stat.h>

#include <ctime>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/history.h"
#include "core/error.h"
#include "core/strings.h"
#include "report/history.h"
#include "report/prometheus.h"

namespace coldstart::cli {
namespace {


nlohmann::json to_json(const std::string& db, const std::vector<report::Session>& sessions) {
  nlohmann::json out = {{"database", db}, {"sessions", nlohmann::json::array()}};
  for (const report::Session& s : sessions) {
    nlohmann::json j = {{"id", s.id},
                        {"label", s.label},
                        {"created_at", s.created_at},
                        {"git_revision", s.git_revision},
                        {"host",
                         {{"hostname", s.host.hostname},
                          {"kernel", s.host.kernel},
                          {"cpu_model", s.host.cpu_model},
                          {"cgroup_version", s.host.cgroup_version}}},
                        {"commands", nlohmann::json::array()}};
    for (const report::BenchCommand& c : s.commands) {
      report::Summary sum = report::summarize(c.times);
      j["commands"].push_back({{"command", c.command},
                               {"mode", c.mode},
                               {"ready", c.ready},
                               {"runs", sum.count},
                               {"median", sum.median},
                               {"p95", sum.p95},
                               {"mean", sum.mean},
                               {"min", sum.min},
                               {"max", sum.max},
                               {"times", c.times}});
    }
    out["sessions"].push_back(std::move(j));
  }
  return out;
}

void print_human(const std::string& db, const std::vector<report::Session>& sessions) {
  if (sessions.empty()) {
    fmt::print("no bench saved in {} (use bench --save LABEL)\n", db);
    return;
  }
  fmt::print("{:>4}  {:<16} {:<19}  {:<10}  {}\n", "id", "label", "saved (UTC)", "git", "host");
  for (const report::Session& s : sessions) {
    fmt::print("{:>4}  {:<16} {:<19}  {:<10}  {} ({}, cgroup {})\n", s.id, s.label, format_utc_seconds(s.created_at),
               s.git_revision.empty() ? "-" : s.git_revision.substr(0, 10), s.host.hostname, s.host.kernel,
               s.host.cgroup_version);
    for (const report::BenchCommand& c : s.commands) {
      report::Summary sum = report::summarize(c.times);
      fmt::print("        {}{}: median {}, p95 {} over {} run{}\n", c.command, c.mode.empty() ? "" : " [" + c.mode + "]",
                 format_duration(sum.median), format_duration(sum.p95), sum.count, sum.count == 1 ? "" : "s");
    }
  }
}

std::string db_path(const HistoryOptions& o) { return o.db.empty() ? report::default_history_path() : o.db; }

}  // namespace

void add_history_options(CLI::App& sub, HistoryOptions& o) {
  sub.add_option("--save", o.save, "store every run under LABEL in the history database");
  sub.add_option("--baseline", o.baseline, "compare with the newest bench saved under LABEL");
  sub.add_option("--db", o.db, "history database (default $XDG_STATE_HOME/coldstart/history.db)");
  sub.add_option("--export-prometheus", o.prometheus,
                 "write time-to-ready quantiles for node_exporter's textfile collector (FILE.prom)");
}

void prepare_history(HistoryOptions& o, std::vector<std::string>& budgets) {
  std::vector<std::string> rest;
  for (const std::string& b : budgets) {
    if (auto r = report::parse_regression_budget(b))
      o.regression = r;
    else
      rest.push_back(b);
  }
  budgets = std::move(rest);
  if (o.regression && o.baseline.empty())
    throw UserError("a 'regression<N%' budget needs --baseline LABEL to compare with");
  if (!o.baseline.empty()) {
    std::string db = db_path(o);
    auto session = report::HistoryDb::open(db).latest(o.baseline);
    if (!session) throw UserError("history " + db + ": no bench saved under label '" + o.baseline + "'");
    o.baseline_session = std::move(session);
  } else if (!o.save.empty()) {
    report::HistoryDb::open(db_path(o));  // a corrupt or foreign database fails before the runs
  }
}

int finish_history(const HistoryOptions& o, const nlohmann::json& bench_json, std::FILE* out) {
  if (o.save.empty() && o.prometheus.empty() && !o.baseline_session) return kExitOk;
  report::BenchSet set = report::bench_from_json(bench_json, "bench");
  if (!o.save.empty()) {
    int64_t id = report::save_bench(db_path(o), o.save, set);
    std::fprintf(stderr, "coldstart: bench: saved as '%s' (session %lld) in %s\n", o.save.c_str(),
                 static_cast<long long>(id), db_path(o).c_str());
  }
  if (!o.prometheus.empty()) report::export_prometheus(o.prometheus, set);
  if (!o.baseline_session) return kExitOk;
  report::BaselineComparison cmp = report::compare_with_baseline(*o.baseline_session, set);
  std::fputs(report::describe(cmp, o.regression).c_str(), out);
  return o.regression && !report::regressions(cmp, *o.regression).empty() ? kExitCheckFailed : kExitOk;
}

CommandRunner setup_history(CLI::App& sub) {
  struct Options {
    bool json = false;
    std::string db;
    std::string label;
  };
  auto opts = std::make_shared<Options>();
  sub.add_flag("--json", opts->json, "machine-readable output");
  sub.add_option("--db", opts->db, "history database (default $XDG_STATE_HOME/coldstart/history.db)");
  sub.add_option("--label", opts->label, "only the sessions saved under LABEL");
  return [opts]() -> int {
    std::string db = opts->db.empty() ? report::default_history_path() : opts->db;
    std::vector<report::Session> sessions;
    struct stat st {};
    if (::stat(db.c_str(), &st) == 0) {  // listing never creates a database
      report::HistoryDb h = report::HistoryDb::open(db);
      sessions = opts->label.empty() ? h.sessions(true) : h.sessions_with_label(opts->label);
    } else if (errno != ENOENT) {
      throw_sys("stat", db);
    }
    if (opts->json)
      fmt::print("{}\n", to_json(db, sessions).dump(2));
    else
      print_human(db, sessions);
    return kExitOk;
  };
}

}  // namespace coldstart::cli
