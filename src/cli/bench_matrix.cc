// bench --matrix: plan the cells, run them interleaved, summarise.
//
// Flow: parse and validate every dimension value (exit 2 before anything
// runs); plan one LaunchOptions per cell of the product (row-major, the last
// dimension fastest) including the Go settings and GODEBUG=gctrace=1 for Go
// targets; warm-ups per cell; then `runs` rounds, each launching every cell
// once, so drift (other tenants, a thermal step) lands on all cells alike;
// with --contend N each run has its N load processes started before and
// reaped after it; gctrace lines of each run's stderr up to ready become its
// GC figures; statistics (report/matrix.cc); print and export.
//
// Dimension values:
//   cpu-max      none | CPUs as a plain number (1, 0.5, 0.2) | QUOTA/PERIOD as --cpu-max
//   memory-max, memory-high   none | a size (256M)
//   cpu-weight   none | 1..10000 (v2 cpu.weight; v1 cpu.shares = w*1024/100)
//   containment  v2 | v2+cpu (v1 cpu and cpuacct) | v2+cpu+memory; the v1
//                attach then counts in time to ready, as under a service manager
//   env:NAME     any value; "auto" and "unset" leave NAME unset AND keep bench
//                from deriving it (GOMAXPROCS=auto is the Go runtime's own choice)
#include "cli/bench_matrix.h"

#include <signal.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/launch_flags.h"
#include "core/cgroup.h"
#include "core/error.h"
#include "core/file.h"
#include "core/process.h"
#include "core/signals.h"
#include "core/strings.h"
#include "launch/contention.h"
#include "launch/go_env.h"
#include "trace/go_inittrace.h"

namespace coldstart::cli {
namespace {

constexpr const char* kDimensions = "cpu-max, memory-max, memory-high, cpu-weight, containment or env:NAME";

bool env_name_ok(std::string_view n) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
  for (char c : n) {
    if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

std::optional<launch::CpuMax> cpu_max_value(const std::string& v) {
  if (v == "none") return std::nullopt;
  bool plain = !v.empty() && v.find_first_not_of("0123456789.") == std::string::npos;
  if (plain) {
    char* end = nullptr;
    double cpus = std::strtod(v.c_str(), &end);
    if (end != v.c_str() + v.size() || !(cpus > 0) || cpus > 1024)
      throw UserError("'" + v + "' is not a CPU count above 0");
    launch::CpuMax c;
    c.period = std::chrono::milliseconds(100);
    c.quota = std::chrono::microseconds(std::llround(cpus * 100000));
    if (c.quota < std::chrono::milliseconds(1)) throw UserError("'" + v + "' CPUs is below the 1ms-per-100ms minimum");
    return c;
  }
  return launch::CpuMax::parse(v);
}

std::optional<uint64_t> size_value(const std::string& v) {
  if (v == "none") return std::nullopt;
  auto b = parse_size(v);
  if (!b || *b == 0) throw UserError("'" + v + "' is not a size like 256M");
  return b;
}

std::optional<uint64_t> weight_value(const std::string& v) {
  if (v == "none") return std::nullopt;
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 5)
    throw UserError("'" + v + "' is not a weight from 1 to 10000");
  uint64_t w = std::stoull(v);
  if (w < 1 || w > 10000) throw UserError("'" + v + "' is not a weight from 1 to 10000");
  return w;
}

launch::Containment containment_value(const std::string& v) {
  if (v == "v2") return launch::Containment::kV2;
  if (v == "v2+cpu") return launch::Containment::kV2Cpu;
  if (v == "v2+cpu+memory") return launch::Containment::kV2CpuMemory;
  throw UserError("'" + v + "' is not v2, v2+cpu or v2+cpu+memory");
}

// Validates one value of dimension `name` (throws UserError with the reason).
void check_value(const std::string& name, const std::string& v) {
  if (v.empty()) throw UserError("an empty value");
  if (name == "cpu-max") (void)cpu_max_value(v);
  else if (name == "memory-max" || name == "memory-high") (void)size_value(v);
  else if (name == "cpu-weight") (void)weight_value(v);
  else if (name == "containment") (void)containment_value(v);
}

/// One cell, ready to be launched again and again.
struct CellPlan {
  launch::LaunchOptions launch;
};

CellPlan plan_cell(const MatrixRequest& req, const std::string& program,
                   const std::vector<std::pair<std::string, std::string>>& coords, bool& is_go,
                   std::vector<std::string>& notes) {
  CellPlan p;
  p.launch = req.common;
  p.launch.argv = shell_split(req.command);
  std::vector<std::string> decided = p.launch.env;  // what go_runtime_env must not override
  bool weight_or_cap = false;
  for (const auto& [name, v] : coords) {
    launch::Limits& lim = p.launch.limits;
    if (name == "cpu-max") lim.cpu_max = cpu_max_value(v), weight_or_cap = weight_or_cap || lim.cpu_max;
    else if (name == "memory-max") lim.memory_max = size_value(v);
    else if (name == "memory-high") lim.memory_high = size_value(v);
    else if (name == "cpu-weight") lim.cpu_weight = weight_value(v), weight_or_cap = weight_or_cap || lim.cpu_weight;
    else if (name == "containment") lim.containment = containment_value(v), p.launch.attach_in_window = true;
    else if (name.starts_with("env:")) {
      std::string key = name.substr(4);
      std::erase_if(p.launch.env, [&](const std::string& kv) { return kv.starts_with(key + "="); });
      decided.push_back(key + "=" + v);
      if (v != "auto" && v != "unset") p.launch.env.push_back(key + "=" + v);
    }
  }
  launch::Limits& lim = p.launch.limits;
  const bool v1_cpu = !cgroup_layout().v2_has("cpu");
  if (lim.containment == launch::Containment::kV2 && weight_or_cap && v1_cpu)
    throw UserError("--matrix: containment=v2 cannot hold a cpu-max or cpu-weight here: the cpu controller is in "
                    "cgroup v1 only");
  if (req.contend > 0 && v1_cpu) {
    if (lim.containment == launch::Containment::kV2)
      throw UserError("--contend: containment=v2 puts the target outside the cpu hierarchy the load competes in");
    // The target's cpu cgroup and the load's are siblings: weights compare like for like.
    if (lim.containment == launch::Containment::kAuto) lim.containment = launch::Containment::kV2Cpu;
  }
  launch::GoRuntimeEnv go = launch::go_runtime_env(program, lim, decided);
  is_go = go.is_go;
  p.launch.env.insert(p.launch.env.end(), go.env.begin(), go.env.end());
  for (const auto& n : go.notes) {
    if (n.find("left as set by the user") == std::string::npos) notes.push_back(n);
  }
  if (go.is_go) {
    // GC figures come from the runtime: GODEBUG gets gctrace=1 (merged).
    std::string existing;
    for (const auto& kv : p.launch.env)
      if (kv.starts_with("GODEBUG=")) existing = kv.substr(8);
    if (existing.empty() && std::getenv("GODEBUG") != nullptr) existing = std::getenv("GODEBUG");
    std::erase_if(p.launch.env, [](const std::string& kv) { return kv.starts_with("GODEBUG="); });
    p.launch.env.push_back("GODEBUG=" + (existing.empty() ? "" : existing + ",") + "gctrace=1");
    p.launch.stderr_tail_lines = 1000000;
  }
  return p;
}

// The GC cycles of one run that started before its ready instant.
report::RunGc gc_before_ready(const std::string& stderr_text, double ready_s) {
  report::RunGc g;
  trace::GoInitReport rep = trace::parse_go_inittrace(stderr_text);
  for (const auto& c : rep.gcs) {
    if (c.start_s >= ready_s) continue;
    ++g.cycles;
    g.pauses_s.push_back(c.sweep_term_s);
    g.pauses_s.push_back(c.mark_term_s);
    g.wall_s += c.wall_s();
    g.cpu_s += c.cpu_s();
  }
  return g;
}

}  // namespace

std::vector<report::MatrixDimension> parse_matrix(const std::vector<std::string>& specs) {
  std::vector<report::MatrixDimension> dims;
  std::set<std::string> names;
  for (const auto& spec : specs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos) throw_bad_flag("--matrix", spec, "want DIM=V1,V2,... with DIM one of " + std::string(kDimensions));
    report::MatrixDimension d;
    d.name = spec.substr(0, eq);
    bool known = d.name == "cpu-max" || d.name == "memory-max" || d.name == "memory-high" ||
                 d.name == "cpu-weight" || d.name == "containment" ||
                 (d.name.starts_with("env:") && env_name_ok(d.name.substr(4)));
    if (!known) throw_bad_flag("--matrix", spec, "unknown dimension '" + d.name + "'; want " + kDimensions);
    if (!names.insert(d.name).second) throw_bad_flag("--matrix", spec, "dimension '" + d.name + "' given twice");
    std::set<std::string> seen;
    for (const auto& v : split(spec.substr(eq + 1), ',')) {
      std::string value(trim(v));
      with_flag("--matrix", spec, [&] {
        check_value(d.name, value);
        return 0;
      });
      if (!seen.insert(value).second) throw_bad_flag("--matrix", spec, "value '" + value + "' given twice");
      d.values.push_back(value);
    }
    dims.push_back(std::move(d));
  }
  return dims;
}

int run_bench_matrix(const MatrixRequest& req) {
  // 1. Plan every cell (row-major over the dimensions) before the first launch.
  std::string program = resolve_program(shell_split(req.command).at(0));
  report::MatrixReport report;
  report.command = req.command;
  report.ready = req.common.ready.text;
  report.dimensions = req.dimensions;
  report.runs = req.runs;
  report.warmup = req.warmup;
  report.contend = req.contend;
  std::vector<CellPlan> plans;
  std::vector<size_t> index(req.dimensions.size(), 0);
  for (;;) {
    report::MatrixCell cell;
    for (size_t d = 0; d < req.dimensions.size(); ++d)
      cell.coords.emplace_back(req.dimensions[d].name, req.dimensions[d].values[index[d]]);
    bool is_go = false;
    plans.push_back(plan_cell(req, program, cell.coords, is_go, cell.notes));
    report.gctrace = is_go;
    report.attach_in_window = plans.back().launch.attach_in_window;
    report.cells.push_back(std::move(cell));
    size_t d = req.dimensions.size();
    while (d > 0 && ++index[d - 1] == req.dimensions[d - 1].values.size()) index[--d] = 0;
    if (d == 0) break;
  }

  // 2. Warm-ups per cell, then rounds over all cells.
  InterruptGuard interrupts;
  auto one = [&](size_t i, bool measured) -> bool {
    std::optional<launch::Contention> load;
    if (req.contend > 0) load.emplace(req.contend);
    launch::RunRecord r = launch::launch_once(plans[i].launch);
    if (load) load->stop();
    report::BenchRun run = report::bench_run_of(r);
    bool ok = r.ready;
    if (!ok && !req.ignore_failure) {
      std::fprintf(stderr, "coldstart: bench: a %srun of cell '%s' failed: %s\n", measured ? "" : "warm-up ",
                   report.cells[i].label().c_str(), r.failure.c_str());
      const std::string& t = r.stderr_tail;
      if (!t.empty()) std::fprintf(stderr, "%s\n", t.substr(t.size() > 2000 ? t.size() - 2000 : 0).c_str());
      std::fprintf(stderr, "coldstart: bench: stopping (use --ignore-failure to go on)\n");
    }
    if (measured) {
      report::MatrixCell& c = report.cells[i];
      c.gc.push_back(report.gctrace && r.ready ? gc_before_ready(r.stderr_tail, to_seconds(r.time_to_ready)) : report::RunGc{});
      c.attach_s.push_back(to_seconds(r.attach_time));
      c.runs.push_back(std::move(run));
    }
    return ok || req.ignore_failure;
  };
  try {
    for (size_t w = 0; w < req.warmup; ++w)
      for (size_t i = 0; i < plans.size(); ++i)
        if (!one(i, false)) return kExitCheckFailed;
    for (size_t round = 0; round < req.runs; ++round)
      for (size_t i = 0; i < plans.size(); ++i)
        if (!one(i, true)) return kExitCheckFailed;
  } catch (const Interrupted& e) {
    std::fprintf(stderr, "coldstart: bench: interrupted; the target and its load were stopped, their cgroups removed\n");
    return e.exit_code();
  }

  // 3. Statistics, output, exports.
  report::finish_matrix(report);
  nlohmann::json doc = report::matrix_json(report);
  if (req.json) std::fputs((doc.dump(2) + "\n").c_str(), stdout);
  else std::fputs(report::matrix_text(report).c_str(), stdout);
  if (!req.export_json.empty()) write_file_atomic(req.export_json, doc.dump(2) + "\n");
  if (!req.export_markdown.empty()) write_file_atomic(req.export_markdown, report::matrix_markdown(report));
  return kExitOk;
}

}  // namespace coldstart::cli
