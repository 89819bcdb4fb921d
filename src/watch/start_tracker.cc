// The life of a start as user space sees it:
//
//   START ──► (EXEC)* ──► LISTEN / NOTIFY / ACCEPT (each once, any order)
//     │        ACCEPT and NOTIFY seen, or ACCEPT + linger, or END after ACCEPT ─► finished "served"
//     │        END before any ACCEPT ───────────────────────────────────────────► finished "exited"
//     └── provisional and not matching --match ─► rejected
//   (timer) older than --start-timeout ─► finished "timeout"; (stop) ─► finished "open"
//
// A start is over at its first accepted connection (plus a short linger for
// a READY=1 that the service sends after it: the handshake completes in the
// kernel as soon as the socket listens, possibly before the service's
// sd_notify call): nothing later belongs to "how long did it take to serve",
// and dropping its kernel state then keeps the BPF maps small on a node
// with thousands of long-running services.
// Records arrive in order per CPU but may interleave across CPUs; every
// milestone carries its own kernel timestamp, so order does not change the
// figures, and a record for a key already finished is ignored.
#include "core/clock.h"
#include "watch/start_tracker.h"

#include <sys/wait.h>

#include "core/strings.h"

namespace coldstart::watch {
namespace {

MilestoneAt milestone_at(const KernelEvent& e, int64_t t0_ns) {
  MilestoneAt m;
  m.ts_ns = e.ts_ns;
  m.seconds = e.ts_ns > t0_ns ? ns_to_s(e.ts_ns - t0_ns) : 0.0;
  if (e.cpu_ns == kNoTask) {
    m.has_task = false;
    return m;
  }
  m.cpu_seconds = ns_to_s(e.cpu_ns);
  m.major_faults = e.major_faults;
  m.throttled_seconds = ns_to_s(e.throttled_ns);
  m.pid = e.pid;
  m.comm = e.comm;
  return m;
}

std::string family_name(uint32_t family) {
  switch (family) {
    case 1: return "unix";
    case 2: return "tcp4";
    case 10: return "tcp6";
    default: return "family-" + std::to_string(family);
  }
}

OverlayMount overlay_mount(const KernelEvent& e, int64_t t0_ns) {
  OverlayMount m;
  m.at_seconds = ns_to_s(e.ts_ns - t0_ns);
  m.seconds = ns_to_s(static_cast<int64_t>(e.mount_ns));
  m.lower_layers = e.aux;
  m.pid = e.pid;
  m.comm = e.comm;
  return m;
}

}  // namespace

std::string_view phase_probes_name(PhaseProbes p) {
  switch (p) {
    case PhaseProbes::kInPlace: return "in_place";
    case PhaseProbes::kLate: return "late";
    default: return "none";
  }
}

std::string_view start_origin_name(StartOrigin o) {
  switch (o) {
    case StartOrigin::kFork: return "fork";
    case StartOrigin::kJoin: return "cgroup_join";
    default: return "exec";
  }
}

bool StartRecord::failed() const {
  if (outcome != "exited" || ready()) return false;
  return exit_signal.has_value() || (exit_status.has_value() && *exit_status != 0);
}

StartTracker::StartTracker(Options options, StartObserver& observer, std::function<std::string(pid_t)> cgroup_of)
    : options_(std::move(options)), observer_(observer), cgroup_of_(std::move(cgroup_of)) {}

bool StartTracker::matches(const KernelEvent& e) const {
  std::string cmdline = join(e.args, " ");
  for (const launch::LogPattern& p : options_.match)
    if (p.search(e.data) || p.search(cmdline)) return true;
  return false;
}

void StartTracker::on_event(const KernelEvent& e) {
  using Kind = KernelEvent::Kind;
  if (e.kind == Kind::kCgroupMade) {
    if (cgroup_paths_.size() < options_.max_cgroup_paths) cgroup_paths_[e.key] = e.data;
    return;
  }
  if (e.kind == Kind::kCgroupRemoved) {
    cgroup_paths_.erase(e.key);
    pending_mounts_.erase(e.key);
    return;
  }
  if (e.kind == Kind::kMount && !open_.contains(e.key)) {
    // Before the cgroup's first exec: kept for its start (a few per cgroup at most).
    auto it = pending_mounts_.find(e.key);
    if (it == pending_mounts_.end() && pending_mounts_.size() >= options_.max_pending_mounts) return;
    std::vector<KernelEvent>& list = pending_mounts_[e.key];
    if (list.size() < 16) list.push_back(e);
    return;
  }
  if (e.kind == Kind::kStart) {
    if (auto old = open_.find(e.key); old != open_.end()) finish(old, "exited", false);  // its END was lost
    bool provisional = (e.aux & kStartProvisional) != 0;
    if (provisional && !matches(e)) {
      observer_.rejected(e.key, e.pid);
      return;
    }
    StartRecord r;
    r.key = e.key;
    r.pid = e.pid;
    r.exe = r.first_exe = e.data;
    r.args = e.args;
    r.exec_ns = e.ts_ns;
    r.fork_ns = e.fork_ns;
    r.t0_ns = e.ts_ns;
    if ((e.aux & (kStartFromFork | kStartFromJoin)) != 0 && e.t0_ns > 0 && e.t0_ns <= e.ts_ns) {
      r.t0_ns = e.t0_ns;
      r.origin = (e.aux & kStartFromJoin) != 0 ? StartOrigin::kJoin : StartOrigin::kFork;
    }
    r.exe_ino = e.exe_ino;
    r.exe_dev = e.exe_dev;
    r.new_mount_namespace = (e.aux & kStartNewMountNamespace) != 0;
    if (auto pending = pending_mounts_.find(e.key); pending != pending_mounts_.end()) {
      for (const KernelEvent& m : pending->second) r.overlay_mounts.push_back(overlay_mount(m, r.t0_ns));
      pending_mounts_.erase(pending);
    }
    if (provisional) {
      r.cgroup = cgroup_of_(e.pid);
      r.labels = labels_for_match(r.exe);
    } else {
      auto path = cgroup_paths_.find(e.key);
      r.cgroup = path != cgroup_paths_.end() ? path->second : cgroup_of_(e.pid);
      r.labels = labels_from_cgroup(r.cgroup, r.exe.empty() ? e.comm : r.exe);
    }
    auto [it, inserted] = open_.emplace(e.key, std::move(r));
    observer_.started(it->second);
    place_probes(it->second);
    return;
  }
  auto it = open_.find(e.key);
  if (it == open_.end()) return;
  StartRecord& r = it->second;
  switch (e.kind) {
    case Kind::kExec:
      r.exe = e.data;
      r.args = e.args;
      r.exe_ino = e.exe_ino;
      r.exe_dev = e.exe_dev;
      r.entry.reset();  // those of the previous image
      r.main.reset();
      place_probes(r);
      break;
    case Kind::kEntry:
      r.entry = milestone_at(e, r.t0_ns);
      break;
    case Kind::kMain:
      r.main = milestone_at(e, r.t0_ns);
      observer_.reached(r, Milestone::kMain);
      break;
    case Kind::kMount:
      r.overlay_mounts.push_back(overlay_mount(e, r.t0_ns));
      break;
    case Kind::kListen:
      r.listen = milestone_at(e, r.t0_ns);
      r.listen_family = family_name(e.aux);
      r.listen_port = static_cast<uint16_t>(e.aux2);
      r.listen_path = e.data;
      observer_.reached(r, Milestone::kListen);
      break;
    case Kind::kNotify:
      r.notify = milestone_at(e, r.t0_ns);
      observer_.reached(r, Milestone::kNotify);
      if (r.accept) finish(it, "served", true);
      break;
    case Kind::kAccept:
      r.accept = milestone_at(e, r.t0_ns);
      if (e.aux != 0) r.accept_family = family_name(e.aux);
      observer_.reached(r, Milestone::kFirstAccept);
      if (r.notify) finish(it, "served", true);
      break;
    case Kind::kEnd: {
      r.end = milestone_at(e, r.t0_ns);
      int status = static_cast<int>(e.aux);
      if (WIFSIGNALED(status)) r.exit_signal = WTERMSIG(status);
      else r.exit_status = WEXITSTATUS(status);
      finish(it, r.accept ? "served" : "exited", false);
      break;
    }
    default:
      break;
  }
}

void StartTracker::place_probes(StartRecord& r) {
  r.main_symbol.clear();
  r.phase_probes = observer_.executed(r, r.main_symbol);
}

void StartTracker::expire(int64_t now_ns) {
  for (auto it = open_.begin(); it != open_.end();) {
    auto next = std::next(it);
    const StartRecord& r = it->second;
    if (r.accept && now_ns - r.accept->ts_ns > options_.linger_ns) finish(it, "served", true);
    else if (now_ns - r.t0_ns > options_.timeout_ns) finish(it, "timeout", true);
    it = next;
  }
}

void StartTracker::finish_all() {
  while (!open_.empty()) finish(open_.begin(), "open", false);
}

void StartTracker::finish(std::map<uint64_t, StartRecord>::iterator it, const std::string& outcome,
                          bool drop_kernel_state) {
  StartRecord r = std::move(it->second);
  open_.erase(it);
  r.outcome = outcome;
  observer_.finished(r, drop_kernel_state);
}

}  // namespace coldstart::watch
