// Loading the watch program and reading what it writes.
//
// Kernel and libbpf facts relied on:
//  - tp_btf and fentry/fexit programs attach through BPF_RAW_TRACEPOINT_OPEN /
//    BPF_LINK_CREATE with the kernel's BTF (/sys/kernel/btf/vmlinux): no
//    tracefs, no kprobe PMU. Loading them needs CAP_BPF + CAP_PERFMON (or
//    root); libbpf 1.x raises RLIMIT_MEMLOCK only on kernels without memcg
//    accounting of BPF memory (< 5.11), where CAP_SYS_RESOURCE is needed too.
//  - `match_mode` is a `const volatile` global: it lives in .rodata, is set
//    between open and load, and the verifier prunes the --match paths when 0.
//  - Records are submitted with BPF_RB_NO_WAKEUP, so epoll on the ring buffer
//    would not wake; the agent calls drain() on a timer instead (1 MiB holds
//    ~2,000 records, far more than a node starts services between two drains).
//  - Uprobes (the loader/main pairs, the libc listen/mount probes) attach
//    through the uprobe PMU (perf_event_open, /sys/bus/event_source/devices/
//    uprobe), no tracefs either; each is a bpf_link we own and destroy.
//  - The syscall tracepoints (--syscall-probes: listen, mount, fsopen,
//    fsconfig) are perf tracepoint events: perf_event_open needs an id from tracefs
//    (syscall_probes.cc); one event on CPU 0 for any task runs the program
//    on every CPU. Not auto-attached: libbpf would need a mounted tracefs.
//  - Destroying the skeleton closes every link and map: nothing stays loaded.
#include "watch/kernel_watch.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/log_capture.h"
#include "watch.skel.h"
#include "watch/bpf/watch_events.h"
#include "watch/libc_probes.h"
#include "watch/syscall_probes.h"

namespace coldstart::watch {
namespace {

// libbpf's diagnostics: the last line is kept (core/log_capture.h) to
// explain a load failure, never printed (its verifier log) on our stderr.
int libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
  if (level != LIBBPF_DEBUG) keep_last_log_line(format, args);
  return 0;
}

[[noreturn]] void fail(const char* step, int err) { throw UserError("watch: " + bpf_failure(step, err)); }

std::string bounded_string(const char* p, size_t max) { return std::string(p, strnlen(p, max)); }

std::vector<std::string> split_args(const char* p, size_t n) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < n) {
    size_t len = strnlen(p + i, n - i);
    out.emplace_back(p + i, len);
    i += len + 1;
  }
  return out;
}

KernelEvent::Kind kind_of(uint32_t k) {
  switch (k) {
    case CSW_START: return KernelEvent::Kind::kStart;
    case CSW_EXEC: return KernelEvent::Kind::kExec;
    case CSW_LISTEN: return KernelEvent::Kind::kListen;
    case CSW_NOTIFY: return KernelEvent::Kind::kNotify;
    case CSW_ACCEPT: return KernelEvent::Kind::kAccept;
    case CSW_END: return KernelEvent::Kind::kEnd;
    case CSW_MKDIR: return KernelEvent::Kind::kCgroupMade;
    case CSW_ENTRY: return KernelEvent::Kind::kEntry;
    case CSW_MAIN: return KernelEvent::Kind::kMain;
    case CSW_MOUNT: return KernelEvent::Kind::kMount;
    default: return KernelEvent::Kind::kCgroupRemoved;
  }
}

}  // namespace

KernelWatch::KernelWatch(bool match_mode, size_t max_phase_probes, bool libc_probes, bool syscall_probes) {
  libbpf_set_print(libbpf_print);
  skel_ = watch_bpf__open();
  if (skel_ == nullptr) fail("open", errno);
  skel_->rodata->match_mode = match_mode ? 1 : 0;
  // Attached by hand (attach_syscalls): libbpf would look for tracefs, and they are opt-in.
  for (bpf_program* p : {skel_->progs.on_sys_exit_listen, skel_->progs.on_sys_enter_mount,
                         skel_->progs.on_sys_exit_mount, skel_->progs.on_sys_exit_fsopen,
                         skel_->progs.on_sys_exit_fsconfig})
    bpf_program__set_autoattach(p, false);
  if (int err = watch_bpf__load(skel_); err != 0) {
    watch_bpf__destroy(skel_);
    skel_ = nullptr;
    fail("load", -err);
  }
  if (int err = watch_bpf__attach(skel_); err != 0) {
    watch_bpf__destroy(skel_);
    skel_ = nullptr;
    fail("attach", -err);
  }
  rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), &KernelWatch::on_record, this, nullptr);
  if (rb_ == nullptr) {
    int err = errno;
    watch_bpf__destroy(skel_);
    skel_ = nullptr;
    fail("ring buffer", err);
  }
  auto attach = [this](const std::string& path, uint64_t offset, bool is_main) -> void* {
    LIBBPF_OPTS(bpf_uprobe_opts, opts);
    bpf_program* prog = is_main ? skel_->progs.on_main : skel_->progs.on_entry;
    bpf_link* link = bpf_program__attach_uprobe_opts(prog, -1, path.c_str(), offset, &opts);
    return link;  // nullptr on failure (errno set): the start is then recorded without that phase
  };
  auto detach = [](void* link) { bpf_link__destroy(static_cast<bpf_link*>(link)); };
  probes_ = std::make_unique<PhaseProbeSet>(max_phase_probes, attach, detach);
  try {
    if (libc_probes) attach_libc();
    if (syscall_probes) attach_syscalls();
  } catch (...) {
    release();  // the destructor does not run for a constructor that throws
    throw;
  }
}

void KernelWatch::attach_libc() {
  std::optional<LibcProbePoints> points = libc_probe_points(1);
  if (!points) points = libc_probe_points(::getpid());
  if (!points) return;  // no glibc on this host: AF_UNIX listens and overlay mounts are not seen
  libc_path_ = points->path;
  struct Point {
    bpf_program* prog;
    uint64_t offset;
    bool retprobe;
  };
  for (const Point& p : {Point{skel_->progs.on_libc_listen, points->listen, false},
                         Point{skel_->progs.on_libc_mount, points->mount, false},
                         Point{skel_->progs.on_libc_mount_done, points->mount, true}}) {
    LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = p.retprobe);
    bpf_link* link = bpf_program__attach_uprobe_opts(p.prog, -1, points->path.c_str(), p.offset, &opts);
    if (link == nullptr) fail(("uprobe on " + points->path).c_str(), errno);
    libc_links_.push_back(link);
  }
}

void KernelWatch::attach_syscalls() {
  struct Point {
    bpf_program* prog;
    const char* event;
  };
  const Point points[] = {{skel_->progs.on_sys_exit_listen, "sys_exit_listen"},
                          {skel_->progs.on_sys_enter_mount, "sys_enter_mount"},
                          {skel_->progs.on_sys_exit_mount, "sys_exit_mount"},
                          {skel_->progs.on_sys_exit_fsopen, "sys_exit_fsopen"},
                          {skel_->progs.on_sys_exit_fsconfig, "sys_exit_fsconfig"}};
  std::vector<std::string> events;
  for (const Point& p : points) events.push_back(p.event);
  Result<std::vector<uint64_t>> ids = syscall_tracepoint_ids(events);  // one look-up (at most one child) for all
  if (!ids) throw UserError("watch: --syscall-probes: " + ids.error());
  for (size_t i = 0; i < std::size(points); ++i) {
    const Point& p = points[i];
    perf_event_attr attr{};
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.size = sizeof attr;
    attr.config = (*ids)[i];
    attr.sample_period = 1;
    attr.wakeup_events = 1;
    // One event (cpu 0, any task) is enough: the program runs for the tracepoint on every CPU.
    int pfd = static_cast<int>(::syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC));
    std::string what = std::string("syscalls/") + p.event;
    if (pfd < 0) fail(("perf_event_open " + what).c_str(), errno);
    bpf_link* link = bpf_program__attach_perf_event(p.prog, pfd);
    if (link == nullptr) {
      int err = errno;
      ::close(pfd);
      fail(("attach " + what).c_str(), err);
    }
    syscall_links_.push_back(link);  // owns pfd
  }
}

PhaseProbes KernelWatch::probe_phases(const StartRecord& r, std::string& main_symbol) {
  return probes_->ensure(r.pid, r.exe_dev, r.exe_ino, r.exe, main_symbol);
}

void KernelWatch::probe_phases_ahead(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw UserError("--probe-exe " + path + ": " + std::strerror(errno));
  uint32_t dev = (major(st.st_dev) << 20) | minor(st.st_dev);  // the kernel's encoding, as the records carry it
  std::string symbol;
  // pid 0: no process to open it through; the path itself is checked against (dev, inode).
  if (probes_->ensure(0, dev, st.st_ino, path, symbol) == PhaseProbes::kNone)
    throw UserError("--probe-exe " + path + ": no loader/main uprobes could be placed (not an ELF executable, "
                    "or --max-phase-probes 0)");
}

KernelWatch::~KernelWatch() { release(); }

void KernelWatch::release() {
  probes_.reset();
  for (bpf_link* l : libc_links_) bpf_link__destroy(l);
  libc_links_.clear();
  for (bpf_link* l : syscall_links_) bpf_link__destroy(l);
  syscall_links_.clear();
  if (rb_ != nullptr) ring_buffer__free(rb_);
  rb_ = nullptr;
  if (skel_ != nullptr) watch_bpf__destroy(skel_);
  skel_ = nullptr;
}

void KernelWatch::drain(const std::function<void(const KernelEvent&)>& sink) {
  sink_ = &sink;
  ring_buffer__consume(rb_);
  sink_ = nullptr;
}

int KernelWatch::on_record(void* ctx, void* data, size_t size) {
  auto* self = static_cast<KernelWatch*>(ctx);
  if (size < sizeof(csw_event) || self->sink_ == nullptr) return 0;
  csw_event r;
  std::memcpy(&r, data, sizeof r);
  KernelEvent e;
  e.kind = kind_of(r.kind);
  e.pid = static_cast<pid_t>(r.pid);
  e.key = r.key;
  e.ts_ns = static_cast<int64_t>(r.ts_ns);
  e.cpu_ns = r.cpu_ns;
  e.major_faults = r.major_faults;
  e.throttled_ns = r.throttled_ns;
  e.aux = r.aux;
  e.aux2 = r.aux2;
  e.exe_ino = r.exe_ino;
  e.exe_dev = r.exe_dev;
  e.mount_ns = r.mount_ns;
  e.fork_ns = static_cast<int64_t>(r.fork_ns);
  e.t0_ns = static_cast<int64_t>(r.t0_ns);
  e.comm = bounded_string(r.comm, sizeof r.comm);
  if (r.kind == CSW_START || r.kind == CSW_EXEC || r.kind == CSW_MKDIR || r.kind == CSW_LISTEN) e.data = bounded_string(r.data, sizeof r.data);
  if (r.kind == CSW_START || r.kind == CSW_EXEC) e.args = split_args(r.args, std::min<size_t>(r.aux2, sizeof r.args));
  (*self->sink_)(e);
  return 0;
}

void KernelWatch::drop_start(uint64_t key, pid_t root) {
  bpf_map_delete_elem(bpf_map__fd(skel_->maps.starts), &key);
  if (key & CSW_KEY_TGID) {
    auto tgid = static_cast<uint32_t>(root);
    bpf_map_delete_elem(bpf_map__fd(skel_->maps.procs), &tgid);
  }
}

KernelLosses KernelWatch::losses() const {
  KernelLosses l;
  l.ring_buffer = skel_->bss->lost_events;
  l.starts_map = skel_->bss->lost_starts;
  l.cgroup_map = skel_->bss->lost_cgroups;
  l.procs_map = skel_->bss->lost_procs;
  return l;
}

}  // namespace coldstart::watch
