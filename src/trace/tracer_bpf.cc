// The BPF backend: loads the CO-RE program of bpf/trace.bpf.c (through the
// skeleton generated at build time), follows the target's tree in the kernel
// and turns the ring-buffer records into the event model.
//
// Kernel and libbpf facts relied on:
//  - libbpf 1.x (strict mode is its only mode) bumps RLIMIT_MEMLOCK only when
//    the kernel lacks memcg accounting of BPF memory (< 5.11), and ignores a
//    failed bump; nothing here depends on CAP_SYS_RESOURCE. (Debian's libbpf
//    1.1 declares but does not export libbpf_set_memlock_rlim, so we cannot
//    switch the probe off explicitly.)
//  - tp_btf programs attach through BPF_RAW_TRACEPOINT_OPEN: no tracefs needed.
//  - A uprobe is placed on (inode, file offset); we attach it for all pids and
//    filter by tgid in the program, so it already fires for the first
//    instruction after exec.
//  - The ring buffer is drained on a 20 ms timer (records are submitted with
//    BPF_RB_NO_WAKEUP): the tracee never wakes us, and 16 MiB holds far more
//    than a start produces between two drains.
//  - Destroying the skeleton closes every link and map: nothing stays loaded.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "core/bpf_mappings.h"
#include "core/log_capture.h"
#include "trace.skel.h"
#include "trace/bpf/trace_events.h"
#include "trace/go_gc.h"
#include "trace/tracer.h"

namespace coldstart::trace {
namespace {

// libbpf's diagnostics: the last line is kept (core/log_capture.h) to
// explain a load failure, never printed (its verifier log) on our stderr.
int libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
  if (level != LIBBPF_DEBUG) keep_last_log_line(format, args);
  return 0;
}

std::string why(const char* step, int err) { return bpf_failure(step, err); }

WaitCause classify(uint32_t flags) {
  if (flags & CS_OFF_THROTTLED) return WaitCause::kThrottled;
  if (flags & CS_OFF_PREEMPTED) return WaitCause::kRunQueue;
  if (flags & (CS_OFF_IN_FAULT | CS_OFF_IOWAIT)) return WaitCause::kDisk;
  if (flags & CS_OFF_SOCKET) return WaitCause::kNetwork;
  if (flags & CS_OFF_TIMED) return WaitCause::kSleep;
  return WaitCause::kOther;
}

/// BpfTracer owns the loaded skeleton, its links and the ring-buffer reader
/// for one launch; a drain thread copies records into the TraceLog until
/// finish() stops it and destroys everything it loaded.
class BpfTracer final : public Tracer {
 public:
  explicit BpfTracer(Detail detail) : detail_(detail) {}
  ~BpfTracer() override { teardown(); }
  std::string_view backend() const override { return "bpf"; }

  void prepare(const TraceTarget& target) override {
    libbpf_set_print(libbpf_print);
    libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
    log_.backend = "bpf";
    log_.program = target.program;
    log_.has_off_cpu = true;

    skel_ = trace_bpf__open();
    if (skel_ == nullptr) throw BackendUnavailable(why("open", errno));
    skel_->rodata->full_detail = detail_ == Detail::kFull ? 1 : 0;
    // Summary: one program per syscall (exit, counting), none at entry.
    bool full = detail_ == Detail::kFull;
    bpf_program__set_autoload(skel_->progs.on_sys_enter, full);
    bpf_program__set_autoload(skel_->progs.on_sys_exit, full);
    bpf_program__set_autoload(skel_->progs.on_sys_exit_counted, !full);
    log_.syscalls_counted = detail_ == Detail::kSummary;
    if (int err = trace_bpf__load(skel_); err != 0) throw BackendUnavailable(why("load", -err));
    if (int err = trace_bpf__attach(skel_); err != 0) throw BackendUnavailable(why("attach", -err));
    attach_uprobe(skel_->progs.on_entry_point, &skel_->links.on_entry_point, target.program,
                  target.entry_offset, "entry point");
    if (!target.main_symbol.empty())
      attach_uprobe(skel_->progs.on_main, &skel_->links.on_main, target.program, target.main_offset,
                    target.main_symbol);
    log_.main_symbol = skel_->links.on_main != nullptr ? target.main_symbol : "";
    log_.main_source = log_.main_symbol.empty() ? "" : target.main_source;
    if (target.libc_start_offset)
      attach_uprobe(skel_->progs.on_libc_start, &skel_->links.on_libc_start, target.libc_path,
                    target.libc_start_offset, "__libc_start_main");
    target_ = target;
    for (const auto& n : target.notes) log_.notes.push_back(n);
    if (target.gc_probe_offsets.size() == 5) {
      bpf_program* progs[] = {skel_->progs.on_gc_start, skel_->progs.on_gc_stop_world, skel_->progs.on_gc_start_world,
                              skel_->progs.on_gc_mark_termination, skel_->progs.on_gc_limiter_finish};
      bpf_link** links[] = {&skel_->links.on_gc_start, &skel_->links.on_gc_stop_world, &skel_->links.on_gc_start_world,
                            &skel_->links.on_gc_mark_termination, &skel_->links.on_gc_limiter_finish};
      for (size_t i = 0; i < 5; ++i)
        attach_uprobe(progs[i], links[i], target.program, target.gc_probe_offsets[i], "Go GC probe");
      gc_probes_ = skel_->links.on_gc_start && skel_->links.on_gc_stop_world && skel_->links.on_gc_start_world &&
                   skel_->links.on_gc_mark_termination && skel_->links.on_gc_limiter_finish;
    } else if (target.is_go) {
      log_.notes.push_back("no GC uprobes for " + (target.go_version.empty() ? std::string("this Go") : target.go_version) +
                           " (runtime functions not found or version not known): GC from gctrace only");
    }

    rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), &BpfTracer::on_record, this, nullptr);
    if (rb_ == nullptr) throw BackendUnavailable(why("ring buffer", errno));
    // Without a v2 cgroup the child starts paused, as a fork of us (core/bpf_mappings.h).
    keep_bpf_maps_out_of_forks();
    // A start launched right after the load ran slower than one launched a
    // little later: Go cgo fixture, 30-40 interleaved starts a kind, load
    // 1.1-1.5: untraced 3.94 / 4.02 ms, traced at once 4.80 / 4.64 ms,
    // traced after 50 ms 4.23 / 4.11 ms. Sleeping cannot warm CPU caches,
    // so it is the kernel finishing what the load queued (freeing the
    // verifier's and BTF's memory, RCU callbacks) on the CPUs the start
    // needs; which work exactly was not pinned down. Outside the timed window.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  // With a v2 cgroup the programs need nothing else: the root is the
  // first task to exec in it (trace.bpf.c's on_exec sets root_tgid).
  bool follow_from_spawn(uint64_t cgroup_id) override {
    if (cgroup_id == 0) return false;
    skel_->bss->root_tgid = 0;
    skel_->bss->target_cgid = cgroup_id;
    skel_->bss->cur_phase = 0;
    followed_from_spawn_ = true;  // the ring buffer holds the records until follow() drains it
    return true;
  }

  void follow(pid_t pid, uint64_t cgroup_id) override {
    log_.root_pid = pid;
    uint32_t key = static_cast<uint32_t>(pid);
    uint8_t one = 1;
    if (bpf_map_update_elem(bpf_map__fd(skel_->maps.tracked), &key, &one, BPF_ANY) != 0)
      throw BackendUnavailable(why("tracked map", errno));
    if (!followed_from_spawn_) {
      skel_->bss->root_tgid = static_cast<uint32_t>(pid);
      // In the kernel, the cgroup test (one helper call) comes before any map
      // lookup; the tgid map is the fallback without a cgroup.
      skel_->bss->target_cgid = cgroup_id;
      skel_->bss->cur_phase = 0;
    }  // else the kernel side runs already, and the root may have exec'd
    start_draining();
  }

  TraceLog finish(int64_t t0_ns, int64_t end_ns, std::optional<int64_t> ready_ns,
                  const std::string& outcome) override {
    // Past the last phase: what runs from here on lands in the counters' spare slot.
    if (skel_ != nullptr) skel_->bss->cur_phase = CS_PHASES;
    std::vector<cs_event> open_waits = waits_open_at(end_ns);
    stop_.store(true);
    if (drainer_.joinable()) drainer_.join();
    if (rb_ != nullptr) ring_buffer__consume(rb_);
    // A thread back on a CPU since the look-up wrote its interval itself.
    for (const cs_event& e : open_waits) {
      bool written = false;
      for (const OffCpu& o : log_.off_cpu) written = written || (o.tid == static_cast<pid_t>(e.tid) && o.start_ns == static_cast<int64_t>(e.start_ns));
      if (!written) add(e, {});
    }
    if (skel_ != nullptr) {
      for (size_t i = 0; i < kBackendPhases; ++i) log_.minor_faults[i] = skel_->bss->minor_faults[i];
      if (log_.syscalls_counted)
        for (size_t i = 0; i < kBackendPhases; ++i) {
          for (int nr = 0; nr < CS_MAX_SYSCALL; ++nr)
            if (uint64_t n = skel_->bss->sys_counts[i][nr]; n > 0) log_.syscall_counts[i][nr] = n;
          log_.file_bytes_read[i] = skel_->bss->read_bytes[i];
        }
      log_.lost_events = skel_->bss->dropped;
    }
    teardown();
    log_.t0_ns = t0_ns;
    log_.end_ns = end_ns;
    log_.ready_ns = ready_ns;
    log_.outcome = outcome;
    check_libc_argument(target_, log_);
    if (gc_probes_) {
      for (const GcCycle& c : gc_cycles_from_probes(gc_hits_, end_ns))
        if (c.start_ns < end_ns) log_.gc_cycles.push_back(c);
    }
    if (log_.lost_events > 0)
      log_.notes.push_back("the ring buffer overflowed: " + std::to_string(log_.lost_events) + " events lost");
    return std::move(log_);
  }

 private:
  void start_draining() {
    drainer_ = std::thread([this] {
      while (!stop_.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ring_buffer__consume(rb_);
      }
    });
  }

  // The threads of the tree still off the CPU at `end_ns` (Go's idle threads
  // parked in futex, a worker waiting for work): their interval is written
  // only when they are back on a CPU, so without this they would count as
  // on-CPU up to the end. Their task-local state is looked up by pidfd (task
  // storage's key from user space; PIDFD_THREAD for a thread, Linux 6.9+).
  std::vector<cs_event> waits_open_at(int64_t end_ns) {
    std::vector<cs_event> out;
    if (skel_ == nullptr) return out;
    std::set<pid_t> tids{log_.root_pid};
    std::map<pid_t, pid_t> tgid{{log_.root_pid, log_.root_pid}};
    for (const TaskEvent& t : log_.tasks) {
      if (t.kind == TaskEvent::Kind::kThread) tids.insert(t.child_tid), tgid[t.child_tid] = t.pid;
      if (t.kind == TaskEvent::Kind::kProcess) tids.insert(t.child_tid), tgid[t.child_tid] = t.child_tid;
      if (t.kind == TaskEvent::Kind::kExit) tids.erase(t.tid);
    }
    int map = bpf_map__fd(skel_->maps.tstates);
    for (pid_t tid : tids) {
      constexpr unsigned kPidfdThread = O_EXCL;  // PIDFD_THREAD
      int fd = static_cast<int>(::syscall(SYS_pidfd_open, tid, tid == tgid[tid] ? 0u : kPidfdThread));
      if (fd < 0) continue;
      cs_tstate st{};
      if (bpf_map_lookup_elem(map, &fd, &st) == 0 && st.off_ts != 0 && static_cast<int64_t>(st.off_ts) < end_ns) {
        cs_event e{};
        e.kind = CS_EV_OFFCPU;
        e.tid = static_cast<uint32_t>(tid);
        e.pid = static_cast<uint32_t>(tgid[tid]);
        e.start_ns = st.off_ts;
        e.end_ns = static_cast<uint64_t>(end_ns);
        e.wake_ns = st.wake_ts;
        e.flags = st.off_flags;
        e.blocked_nr = static_cast<uint32_t>(st.off_nr);
        out.push_back(e);
      }
      ::close(fd);
    }
    return out;
  }

  void attach_uprobe(bpf_program* prog, bpf_link** slot, const std::string& path,
                     std::optional<uint64_t> offset, const std::string& what) {
    if (!offset) {
      log_.notes.push_back("no file offset for the " + what + ": phase boundary not traced");
      return;
    }
    LIBBPF_OPTS(bpf_uprobe_opts, opts);
    bpf_link* link = bpf_program__attach_uprobe_opts(prog, -1, path.c_str(), *offset, &opts);
    if (link == nullptr) {
      log_.notes.push_back("uprobe at the " + what + " failed: " + std::strerror(errno));
      return;
    }
    *slot = link;  // the skeleton destroys it with the rest
  }

  static int on_record(void* ctx, void* data, size_t size) {
    if (size < sizeof(cs_event)) return 0;
    auto* self = static_cast<BpfTracer*>(ctx);
    cs_event e;
    std::memcpy(&e, data, sizeof e);
    std::string path;
    if (size >= sizeof(cs_path_event)) {
      const char* p = static_cast<const char*>(data) + offsetof(cs_path_event, path);
      path.assign(p, strnlen(p, CS_PATH_MAX));
    }
    self->add(e, std::move(path));
    return 0;
  }

  void add(const cs_event& e, std::string path) {
    auto pid = static_cast<pid_t>(e.pid), tid = static_cast<pid_t>(e.tid);
    auto start = static_cast<int64_t>(e.start_ns), end = static_cast<int64_t>(e.end_ns);
    switch (e.kind) {
      case CS_EV_SYSCALL:
        log_.syscalls.push_back({pid, tid, static_cast<int>(e.aux), start, end, e.ret, e.arg0,
                                 (e.flags & CS_OFF_SOCKET) != 0, std::move(path)});
        break;
      case CS_EV_OFFCPU: {
        OffCpu off{pid, tid, start, start, end, classify(e.flags), -1};
        if (e.flags & CS_OFF_IN_SYSCALL) off.syscall_nr = static_cast<int>(e.blocked_nr);
        // A throttled thread waits for the next quota period as a whole; a
        // preempted one waits in the run queue from the start.
        if (e.flags & CS_OFF_THROTTLED) off.wake_ns = end;
        else if (!(e.flags & CS_OFF_PREEMPTED))
          off.wake_ns = e.wake_ns != 0 ? std::min(static_cast<int64_t>(e.wake_ns), end) : end;
        log_.off_cpu.push_back(off);
        break;
      }
      case CS_EV_FORK: {
        auto kind = e.arg1 != 0 ? TaskEvent::Kind::kThread : TaskEvent::Kind::kProcess;
        log_.tasks.push_back({kind, pid, tid, start, static_cast<pid_t>(e.aux), 0, {}});
        break;
      }
      case CS_EV_EXEC:
        if (pid == log_.root_pid && !log_.exec_ns) log_.exec_ns = start;
        log_.tasks.push_back({TaskEvent::Kind::kExec, pid, tid, start, 0, 0, std::move(path)});
        break;
      case CS_EV_EXIT:
        log_.tasks.push_back({TaskEvent::Kind::kExit, pid, tid, start, 0, static_cast<int>(e.aux), {}});
        break;
      case CS_EV_FAULT:
        log_.major_faults.push_back({pid, tid, start, end, e.arg0});
        break;
      case CS_EV_MARK:
        if (e.aux == CS_MARK_ENTRY && !log_.entry_ns) {
          log_.entry_ns = start;
          load_base_ = e.arg0 - target_.entry_vaddr;  // 0 unless PIE
        }
        if (e.aux == CS_MARK_MAIN && !log_.main_ns) log_.main_ns = start;
        if (e.aux == CS_MARK_LIBC_START && !log_.libc_main_arg) log_.libc_main_arg = e.arg0 - load_base_;
        if (e.aux >= CS_MARK_GC_START && e.aux <= CS_MARK_GC_LIMITER_FINISH) {
          static constexpr GcProbeHit::Kind kinds[] = {GcProbeHit::Kind::kGcStart, GcProbeHit::Kind::kStop,
                                                       GcProbeHit::Kind::kStart, GcProbeHit::Kind::kMarkTermination,
                                                       GcProbeHit::Kind::kLimiterFinish};
          gc_hits_.push_back({kinds[e.aux - CS_MARK_GC_START], start});
        }
        break;
      default:
        break;
    }
  }

  void teardown() {
    stop_.store(true);
    if (drainer_.joinable()) drainer_.join();
    if (rb_ != nullptr) ring_buffer__free(rb_);
    rb_ = nullptr;
    if (skel_ != nullptr) trace_bpf__destroy(skel_);
    skel_ = nullptr;
  }

  Detail detail_;
  TraceTarget target_;
  uint64_t load_base_ = 0;  // from the entry uprobe's address
  trace_bpf* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  std::thread drainer_;
  std::atomic<bool> stop_{false};
  TraceLog log_;
  bool gc_probes_ = false;
  bool followed_from_spawn_ = false;
  std::vector<GcProbeHit> gc_hits_;
};

}  // namespace

std::unique_ptr<Tracer> make_bpf_tracer(Detail detail) { return std::make_unique<BpfTracer>(detail); }

}  // namespace coldstart::trace
