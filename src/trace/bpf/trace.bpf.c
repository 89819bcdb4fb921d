// SPDX-License-Identifier: GPL-2.0
/* The in-kernel half of `coldstart trace --backend bpf`.
 *
 * Filtering: every program runs for every task on the machine, so the first
 * test is the cheapest one. With a launch cgroup (the launcher's v2 cgroup,
 * `target_cgid`, set by user space before the root is spawned) that is one helper
 * call and a compare: bpf_get_current_cgroup_id() for the current task, the
 * task's css_set for another (sched_switch's next, a woken task); no map
 * lookup for a task outside it. Without one (the process-group fallback,
 * tests that spawn directly) `tracked` holds the tgids of the target's tree:
 * user space puts the paused root in it before the root runs;
 * sched_process_fork adds every new process whose parent is tracked, so
 * daemons and helpers stay in view.
 *
 * Per thread (`cs_tstate` in trace_events.h, task-local storage: no hash lookup) we remember the syscall in progress and
 * when the thread left the CPU, so that:
 *  - sys_exit emits one record per syscall with its duration (and the path
 *    for calls that name a file, read at exit when the kernel has already
 *    faulted the string in);
 *  - sched_switch-in emits one off-CPU interval with its wake-up time
 *    (sched_wakeup) and what the thread was doing when it left: preempted
 *    (run-queue wait, or CPU-throttled when its cgroup's quota is spent), in_iowait (block I/O), inside handle_mm_fault, inside
 *    which syscall, on a socket, with a timeout. User space turns that into
 *    a cause (disk, network, sleeping, run queue, throttled, other).
 *  - User page faults (exceptions:page_fault_user) are settled by the
 *    task's fault counters (see settle_fault): major ones are emitted, minor
 *    ones only counted, per phase. An off-CPU interval that starts inside a
 *    fault is disk wait.
 *
 * Phases: `cur_phase` moves 0 -> 1 at the root's first exec, -> 2 at the
 * uprobe on the ELF entry point and -> 3 at the uprobe on main/main.main; the
 * uprobes also emit a MARK so user space knows the exact instants.
 *
 * Detail (`full_detail`, set before load; user space loads only the programs
 * of its level): by default there is no sys_enter program, and
 * on_sys_exit_counted only counts, per phase and syscall number, in
 * `sys_counts`, sums the bytes of file reads in `read_bytes`, and writes a
 * record only for the calls the output lists or needs one by one (file opens;
 * sends, connect and listen, which tell the thread that made the target
 * ready). With full detail sys_enter + sys_exit write every syscall as a
 * record with its duration, as strace would print it (the Chrome trace's
 * syscall slices need that). Off-CPU intervals, faults, forks, execs and
 * exits are records at both levels: there are few of them and the summary
 * clips them to phases.
 *
 * Records go to a ring buffer with BPF_RB_NO_WAKEUP: user space drains it on
 * its own timer, so the tracee never pays for waking the consumer.
 * Timestamps are bpf_ktime_get_ns() = CLOCK_MONOTONIC. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "trace_events.h"

char LICENSE[] SEC("license") = "GPL";

#define S_IFMT_BITS 0170000
#define S_IFSOCK_BITS 0140000


struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8192);
  __type(key, __u32);
  __type(value, __u8);
} tracked SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct cs_tstate);
} tstates SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16 << 20);
} events SEC(".maps");

/* Summary detail: the files already listed in a phase (see open_listed). */
struct opened_key {
  __u64 ino;
  __u32 dev;
  __u32 phase;
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, struct opened_key);
  __type(value, __u8);
} opened SEC(".maps");

const volatile __u32 full_detail = 0;
volatile __u32 root_tgid;
volatile __u64 target_cgid; /* the launch's v2 cgroup id; 0: filter by `tracked` */
volatile __u32 cur_phase;
__u64 minor_faults[CS_PHASES];
__u64 dropped;
__u64 sys_counts[CS_COUNT_PHASES][CS_MAX_SYSCALL];
__u64 read_bytes[CS_COUNT_PHASES];

static __always_inline bool is_tracked(__u32 tgid) { return bpf_map_lookup_elem(&tracked, &tgid) != 0; }

/* Is the current task one of the target's? (No pid lookup on the cgroup path.) */
static __always_inline bool current_in_target(void) {
  __u64 cg = target_cgid;
  if (cg) return bpf_get_current_cgroup_id() == cg;
  return is_tracked(bpf_get_current_pid_tgid() >> 32);
}

/* The same for any task: its default-hierarchy (v2) cgroup, read through
 * BTF pointers (no helper call), which is what bpf_get_current_cgroup_id
 * returns for current. */
static __always_inline bool task_in_target(struct task_struct* p) {
  __u64 cg = target_cgid;
  if (cg) return p->cgroups->dfl_cgrp->kn->id == cg;
  return is_tracked(p->tgid);
}

static __always_inline struct cs_tstate* state_find(struct task_struct* task) {
  return bpf_task_storage_get(&tstates, task, 0, 0);
}

static __always_inline struct cs_tstate* state_of(struct task_struct* task) {
  struct cs_tstate* st = bpf_task_storage_get(&tstates, task, 0, 0);
  if (st) return st;
  struct cs_tstate zero = {};
  zero.nr = -1;
  zero.off_nr = -1;
  return bpf_task_storage_get(&tstates, task, &zero, BPF_LOCAL_STORAGE_GET_F_CREATE);
}

static __always_inline struct cs_event* reserve(__u32 kind, __u32 tid, __u32 tgid) {
  struct cs_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __sync_fetch_and_add(&dropped, 1);
    return 0;
  }
  __builtin_memset(e, 0, sizeof(*e));
  e->kind = kind;
  e->tid = tid;
  e->pid = tgid;
  return e;
}

static __always_inline struct cs_path_event* reserve_path(__u32 kind, __u32 tid, __u32 tgid) {
  struct cs_path_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __sync_fetch_and_add(&dropped, 1);
    return 0;
  }
  __builtin_memset(&e->base, 0, sizeof(e->base));
  e->base.kind = kind;
  e->base.tid = tid;
  e->base.pid = tgid;
  e->path[0] = 0;
  return e;
}

/* A user page fault has no end tracepoint; the kernel bumps the task's
 * maj_flt or min_flt when it finishes (mm_account_fault; never for a
 * VM_FAULT_RETRY pass). So a fault is still running while both counters
 * equal their values at the fault's start, and the first counter that moved
 * says whether it was major. We settle at the task's next fault, switch-out
 * and exit (and, with full detail, syscall entry; the summary's sys_exit
 * program does not look at the thread's state at all: that lookup was a
 * third of its cost); `force` ends an unaccounted (spurious) fault. A minor
 * fault counts in the phase it began in, however late it is settled; a major
 * fault's end is when it was noticed (nothing reports it; its disk wait is
 * the off-CPU interval that starts inside it). */
static __always_inline void settle_fault(struct task_struct* task, struct cs_tstate* st, bool force) {
  if (!st->in_fault) return;
  __u64 maj = task->maj_flt, min = task->min_flt;
  if (maj == st->maj_snap && min == st->min_snap) {
    if (force) st->in_fault = 0;
    return;
  }
  st->in_fault = 0;
  if (maj == st->maj_snap) {
    __u32 phase = st->fault_phase;
    if (phase < CS_PHASES) __sync_fetch_and_add(&minor_faults[phase], 1);
    return;
  }
  struct cs_event* e = reserve(CS_EV_FAULT, task->pid, task->tgid);
  if (!e) return;
  e->start_ns = st->fault_ts;
  e->end_ns = bpf_ktime_get_ns(); /* when we noticed: an upper bound */
  e->arg0 = st->fault_addr;
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

extern void* bpf_rdonly_cast(const void* obj, __u32 btf_id) __ksym;

/* The inode behind the task's file descriptor `fd`, or 0. Runs for every
 * file read and open of the target, so: direct loads through BTF pointers
 * (the verifier makes them fault-safe), and one probe read for the variable
 * array index, whose result bpf_rdonly_cast makes a BTF pointer again (no
 * probe reads for f_inode and what the callers read of it). */
static __always_inline struct inode* fd_inode(struct task_struct* task, long fd) {
  struct fdtable* fdt = task->files->fdt;
  if (!fdt || fd < 0 || fd >= fdt->max_fds) return 0;
  struct file** fds = fdt->fd;
  struct file* raw = 0;
  bpf_probe_read_kernel(&raw, sizeof(raw), &fds[fd]);
  if (!raw) return 0;
  struct file* f = bpf_rdonly_cast(raw, bpf_core_type_id_kernel(struct file));
  return f->f_inode;
}

static __always_inline bool fd_is_socket(struct task_struct* task, __u64 fd) {
  struct inode* ino = fd_inode(task, (long)fd);
  return ino && (ino->i_mode & S_IFMT_BITS) == S_IFSOCK_BITS;
}

/* Summary detail lists each file once per phase: a path record costs the
 * target ~0.9 us (reserve, path copy, submit: measured on the syscall-dense
 * fixture's 2,100 opens of one file, 1.15x untraced with a record per open,
 * 1.05x without), a lookup of the opened file's (dev, inode) a few loads.
 * Repeated opens stay in the syscall counts; --detail full lists every one.
 * True when the open that returned `fd` was listed before in this phase (a
 * full map lists it again). */
static __always_inline bool open_listed(struct task_struct* task, long fd, __u32 phase) {
  struct inode* ino = fd_inode(task, fd);
  if (!ino) return false;
  struct opened_key key = {.ino = ino->i_ino, .dev = ino->i_sb->s_dev, .phase = phase};
  if (bpf_map_lookup_elem(&opened, &key)) return true; /* lock-free; the update takes a bucket lock */
  __u8 one = 1;
  bpf_map_update_elem(&opened, &key, &one, BPF_NOEXIST);
  return false;
}

/* x86-64 syscall numbers the classification needs. */
enum {
  NR_read = 0, NR_write = 1, NR_open = 2, NR_writev = 20, NR_stat = 4, NR_lstat = 6, NR_poll = 7, NR_pread64 = 17, NR_readv = 19,
  NR_access = 21, NR_select = 23, NR_nanosleep = 35, NR_connect = 42, NR_execve = 59, NR_execveat = 322, NR_accept = 43, NR_sendto = 44,
  NR_recvfrom = 45, NR_sendmsg = 46, NR_recvmsg = 47, NR_listen = 50, NR_sendmmsg = 307, NR_readlink = 89, NR_futex = 202,
  NR_clock_nanosleep = 230, NR_epoll_wait = 232, NR_openat = 257, NR_newfstatat = 262,
  NR_readlinkat = 267, NR_faccessat = 269, NR_pselect6 = 270, NR_ppoll = 271, NR_epoll_pwait = 281,
  NR_accept4 = 288, NR_preadv = 295, NR_recvmmsg = 299, NR_statx = 332, NR_openat2 = 437,
  NR_faccessat2 = 439, NR_epoll_pwait2 = 441,
};

static __always_inline __u32 syscall_flags(struct task_struct* task, long nr, __u64* args) {
  switch (nr) {
    case NR_connect: case NR_accept: case NR_accept4: case NR_sendto: case NR_recvfrom:
    case NR_sendmsg: case NR_recvmsg: case NR_recvmmsg: case NR_poll: case NR_ppoll:
    case NR_select: case NR_pselect6: case NR_epoll_wait: case NR_epoll_pwait: case NR_epoll_pwait2:
      return CS_OFF_SOCKET;
    case NR_read: case NR_readv: case NR_pread64: case NR_preadv: case NR_write: case NR_writev:
      return fd_is_socket(task, args[0]) ? CS_OFF_SOCKET : 0;
    case NR_nanosleep: case NR_clock_nanosleep:
      return CS_OFF_TIMED;
    case NR_futex: {
      __u64 cmd = args[1] & 0x7f; /* FUTEX_CMD_MASK: without PRIVATE / CLOCK_REALTIME */
      if ((cmd == 0 || cmd == 9) && args[3] != 0) return CS_OFF_TIMED;
      return 0;
    }
  }
  return 0;
}

/* Which argument of a file-naming syscall holds the path (-1: none). */
static __always_inline int path_arg(long nr) {
  switch (nr) {
    case NR_open: case NR_stat: case NR_lstat: case NR_access: case NR_readlink:
      return 0;
    case NR_openat: case NR_openat2: case NR_newfstatat: case NR_statx: case NR_faccessat:
    case NR_faccessat2: case NR_readlinkat:
      return 1;
  }
  return -1;
}

/* The calls the summary lists or needs one by one: file opens, and the
 * sends (a write on a socket too), connect() and listen() that tell which
 * thread made the target ready. */
static __always_inline bool is_listed(long nr, __u32 flags) {
  if ((nr == NR_write || nr == NR_writev) && (flags & CS_OFF_SOCKET)) return true;
  return nr == NR_open || nr == NR_openat || nr == NR_openat2 || nr == NR_sendto || nr == NR_sendmsg ||
         nr == NR_listen || nr == NR_sendmmsg || nr == NR_connect;
}

/* read, pread64, readv, preadv, preadv2: the calls whose bytes phases.cc sums. */
static __always_inline bool is_file_read(long nr) {
  return nr == NR_read || nr == NR_pread64 || nr == NR_readv || nr == NR_preadv || nr == 327;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs* regs, long id) {
  if (!current_in_target()) return 0;
  struct task_struct* task = bpf_get_current_task_btf();
  struct cs_tstate* st = state_of(task);
  if (!st) return 0;
  settle_fault(task, st, true);
  st->nr = id;
  st->sys_ts = bpf_ktime_get_ns();
  st->sys_phase = cur_phase;
  st->args[0] = regs->di;
  st->args[1] = regs->si;
  st->args[2] = regs->dx;
  st->args[3] = regs->r10;
  st->sys_flags = syscall_flags(task, id, st->args);
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs* regs, long ret) {
  if (!current_in_target()) return 0;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
  struct cs_tstate* st = state_find(bpf_get_current_task_btf());
  if (!st || st->nr < 0) return 0;
  long nr = st->nr;
  st->nr = -1;
  int which = path_arg(nr);
  __u64 now = bpf_ktime_get_ns();
  struct cs_event* e;
  if (which >= 0) {
    struct cs_path_event* pe = reserve_path(CS_EV_SYSCALL, tid, tgid);
    if (!pe) return 0;
    bpf_probe_read_user_str(pe->path, sizeof(pe->path), (void*)st->args[which & 1]);
    e = &pe->base;
  } else {
    e = reserve(CS_EV_SYSCALL, tid, tgid);
    if (!e) return 0;
  }
  e->aux = nr;
  e->start_ns = st->sys_ts;
  e->end_ns = now;
  e->ret = ret;
  e->arg0 = st->args[0];
  e->arg1 = st->args[1];
  e->flags = st->sys_flags;
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  return 0;
}

/* Summary detail has no sys_enter program (half the per-syscall cost): the
 * syscall number and arguments are still in the task's saved user registers
 * at exit (orig_ax, di, si, ...), and a blocked task's are read at
 * switch-out (bpf_task_pt_regs). What is lost is a call's start time: a
 * record made here has start == end. */
SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit_counted, struct pt_regs* regs, long ret) {
  if (!current_in_target()) return 0;
  long nr = regs->orig_ax;
  if (nr < 0 || nr >= CS_MAX_SYSCALL) return 0;
  struct task_struct* task = bpf_get_current_task_btf();
  __u32 phase = cur_phase;
  if (nr == NR_execve || nr == NR_execveat) {
    struct cs_tstate* st = state_find(task);
    if (st && st->execed) { /* the execve that ended in a new phase started in the one before */
      phase = st->sys_phase;
      st->execed = 0;
    }
  }
  if (phase > CS_PHASES) phase = CS_PHASES;
  __sync_fetch_and_add(&sys_counts[phase][nr], 1);
  __u64 args[4] = {regs->di, regs->si, regs->dx, 0};
  bool read = is_file_read(nr);
  __u32 flags = (read && ret > 0) || nr == NR_write || nr == NR_writev ? syscall_flags(task, nr, args) : 0;
  if (read && ret > 0 && !(flags & CS_OFF_SOCKET)) __sync_fetch_and_add(&read_bytes[phase], ret);
  if (!is_listed(nr, flags)) return 0;
  if ((nr == NR_open || nr == NR_openat || nr == NR_openat2) && ret >= 0 && open_listed(task, ret, phase)) return 0;
  if (nr == NR_sendto || nr == NR_sendmsg || nr == NR_sendmmsg || nr == NR_connect) flags |= CS_OFF_SOCKET;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
  __u64 now = bpf_ktime_get_ns();
  int which = path_arg(nr);
  struct cs_event* e;
  if (which >= 0) {
    struct cs_path_event* pe = reserve_path(CS_EV_SYSCALL, tid, tgid);
    if (!pe) return 0;
    bpf_probe_read_user_str(pe->path, sizeof(pe->path), (void*)args[which & 1]);
    e = &pe->base;
  } else {
    e = reserve(CS_EV_SYSCALL, tid, tgid);
    if (!e) return 0;
  }
  e->aux = nr;
  e->start_ns = e->end_ns = now;
  e->ret = ret;
  e->arg0 = args[0];
  e->arg1 = args[1];
  e->flags = flags;
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  return 0;
}

/* Still runnable, but its cgroup's CPU quota is spent. Kernels >= 6.18
 * throttle task by task on the way back to user space (task_struct.throttled);
 * before, a throttled group's whole cfs_rq left the run queue, and
 * throttle_count > 0 says that it or an ancestor is throttled. */
static __always_inline bool cpu_throttled(struct task_struct* p) {
  if (bpf_core_field_exists(p->throttled) && BPF_CORE_READ(p, throttled)) return true;
  if (!bpf_core_field_exists(p->se.cfs_rq)) return false;
  struct cfs_rq* cfs = BPF_CORE_READ(p, se.cfs_rq);
  if (!cfs || !bpf_core_field_exists(cfs->throttle_count)) return false;
  return BPF_CORE_READ(cfs, throttle_count) > 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_sched_switch, bool preempt, struct task_struct* prev, struct task_struct* next,
             unsigned int prev_state) {
  __u64 now = bpf_ktime_get_ns();
  if (current_in_target()) { /* prev is current: the helper, not four dependent loads */
    struct cs_tstate* st = state_of(prev);
    if (st) {
      settle_fault(prev, st, false);
      __u32 flags = 0;
      if (preempt || prev_state == 0) {
        flags |= CS_OFF_PREEMPTED;
        if (cpu_throttled(prev)) flags |= CS_OFF_THROTTLED;
      }
      if (BPF_CORE_READ_BITFIELD(prev, in_iowait)) flags |= CS_OFF_IOWAIT;
      if (st->in_fault) flags |= CS_OFF_IN_FAULT;
      st->off_nr = st->nr;
      if (st->nr >= 0) {
        flags |= CS_OFF_IN_SYSCALL | st->sys_flags;
      } else if (!full_detail && !(flags & CS_OFF_PREEMPTED)) {
        /* Summary detail (no sys_enter): blocked in the kernel is in a
         * syscall, whose number and arguments the saved user registers hold,
         * or in a user fault (orig_ax then holds its error code). A syscall
         * left the user ip just after its `syscall` (0f 05): that tells a
         * syscall from a fault whose end the counters did not show yet
         * (sys_enter would have settled it). prev is current here. */
        struct pt_regs* r = (struct pt_regs*)bpf_task_pt_regs(prev);
        long nr = r ? BPF_CORE_READ(r, orig_ax) : -1;
        if (st->in_fault) {
          __u8 insn[2] = {};
          if (!r || bpf_probe_read_user(insn, sizeof insn, (void*)(BPF_CORE_READ(r, ip) - 2)) != 0 ||
              insn[0] != 0x0f || insn[1] != 0x05)
            nr = -1; /* in the fault */
          else {
            st->in_fault = 0;
            flags &= ~CS_OFF_IN_FAULT;
          }
        }
        if (nr >= 0 && nr < CS_MAX_SYSCALL) {
          __u64 args[4] = {BPF_CORE_READ(r, di), BPF_CORE_READ(r, si), BPF_CORE_READ(r, dx), BPF_CORE_READ(r, r10)};
          flags |= CS_OFF_IN_SYSCALL | syscall_flags(prev, nr, args);
          st->off_nr = nr;
        }
      }
      st->off_ts = now;
      st->wake_ts = 0;
      st->off_flags = flags;
    }
  }
  if (task_in_target(next)) {
    __u32 tid = next->pid;
    struct cs_tstate* st = state_find(next);
    if (st && st->off_ts) {
      struct cs_event* e = reserve(CS_EV_OFFCPU, tid, next->tgid);
      if (e) {
        e->start_ns = st->off_ts;
        e->end_ns = now;
        e->wake_ns = st->wake_ts;
        e->flags = st->off_flags;
        e->aux = (__u32)st->off_nr;
        e->blocked_nr = (__u32)st->off_nr;
        bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
      }
      st->off_ts = 0;
    }
  }
  return 0;
}

static __always_inline void note_wakeup(struct task_struct* p) {
  if (!task_in_target(p)) return;
  struct cs_tstate* st = state_find(p);
  if (st && st->off_ts && !st->wake_ts) st->wake_ts = bpf_ktime_get_ns();
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_sched_wakeup, struct task_struct* p) {
  note_wakeup(p);
  return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(on_sched_wakeup_new, struct task_struct* p) {
  note_wakeup(p);
  return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct* parent, struct task_struct* child) {
  __u32 ptgid = parent->tgid;
  if (!task_in_target(parent)) return 0;
  __u32 ctgid = child->tgid, ctid = child->pid;
  if (ctgid != ptgid) {
    __u8 one = 1;
    bpf_map_update_elem(&tracked, &ctgid, &one, BPF_ANY);
  }
  __u64 now = bpf_ktime_get_ns();
  struct cs_tstate* st = state_of(child);
  if (st) {
    st->nr = -1;
    st->off_ts = now; /* created runnable: waits for its first CPU */
    st->wake_ts = now;
    st->off_flags = CS_OFF_PREEMPTED;
  }
  struct cs_event* e = reserve(CS_EV_FORK, parent->pid, ptgid);
  if (!e) return 0;
  e->start_ns = e->end_ns = now;
  e->aux = ctid;
  e->arg0 = ctgid;
  e->arg1 = ctgid == ptgid;
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct* p, pid_t old_pid, struct linux_binprm* bprm) {
  __u32 tgid = p->tgid;
  if (!task_in_target(p)) return 0;
  struct cs_tstate* st = state_of(p);
  if (st) {
    st->execed = 1;  /* summary detail: count this execve in the phase it began in */
    st->sys_phase = cur_phase;
  }
  /* Followed from the spawn (the root was never paused, user space learns
   * its pid only after this exec): the first exec in the fresh cgroup is
   * the root's, nothing else has run there. */
  if (root_tgid == 0) root_tgid = tgid;
  if (tgid == root_tgid && cur_phase == 0) cur_phase = 1;
  struct cs_path_event* e = reserve_path(CS_EV_EXEC, p->pid, tgid);
  if (!e) return 0;
  e->base.start_ns = e->base.end_ns = bpf_ktime_get_ns();
  bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(bprm, filename));
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct* p) {
  __u32 tgid = p->tgid, tid = p->pid;
  if (!task_in_target(p)) return 0;
  struct cs_tstate* st = state_find(p);
  if (st) settle_fault(p, st, true);
  struct cs_event* e = reserve(CS_EV_EXIT, tid, tgid);
  if (e) {
    e->start_ns = e->end_ns = bpf_ktime_get_ns();
    e->aux = p->exit_code;
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  }
  bpf_task_storage_delete(&tstates, p);
  return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(on_page_fault, unsigned long address, struct pt_regs* regs, unsigned long error_code) {
  if (!current_in_target()) return 0;
  struct task_struct* task = bpf_get_current_task_btf();
  struct cs_tstate* st = state_of(task);
  if (!st) return 0;
  settle_fault(task, st, true);
  st->in_fault = 1;
  st->fault_ts = bpf_ktime_get_ns();
  st->fault_phase = cur_phase;
  st->fault_addr = address;
  st->maj_snap = task->maj_flt;
  st->min_snap = task->min_flt;
  return 0;
}

static __always_inline void mark(__u32 which, __u32 phase, __u64 arg) {
  __u64 now = bpf_ktime_get_ns();
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32;
  if (tgid != root_tgid || cur_phase >= phase) return;
  cur_phase = phase;
  struct cs_event* e = reserve(CS_EV_MARK, (__u32)pid_tgid, tgid);
  if (!e) return;
  e->start_ns = e->end_ns = now;
  e->aux = which;
  e->arg0 = arg;
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

SEC("uprobe")
int BPF_KPROBE(on_entry_point) {
  mark(CS_MARK_ENTRY, 2, PT_REGS_IP(ctx));
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_main) {
  mark(CS_MARK_MAIN, 3, PT_REGS_IP(ctx));
  return 0;
}

/* __libc_start_main(main, argc, argv, ...) in the libc the root mapped: its
 * first argument is the program's main, which the main uprobe (placed from
 * _start's code before the launch) must agree with. Fires once per start of
 * any glibc program on the machine: the tgid test keeps it to the root. */
SEC("uprobe")
int BPF_KPROBE(on_libc_start, __u64 main_addr) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32;
  if (tgid != root_tgid) return 0;
  struct cs_event* e = reserve(CS_EV_MARK, (__u32)pid_tgid, tgid);
  if (!e) return 0;
  e->start_ns = e->end_ns = bpf_ktime_get_ns();
  e->aux = CS_MARK_LIBC_START;
  e->arg0 = main_addr;
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  return 0;
}

/* Go GC probes: every hit of the tracked tree, with the thread and instant. */
static __always_inline void gc_mark(__u32 which) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32;
  if (!current_in_target()) return;
  struct cs_event* e = reserve(CS_EV_MARK, (__u32)pid_tgid, tgid);
  if (!e) return;
  e->start_ns = e->end_ns = bpf_ktime_get_ns();
  e->aux = which;
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

SEC("uprobe")
int BPF_KPROBE(on_gc_start) {
  gc_mark(CS_MARK_GC_START);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_gc_stop_world) {
  gc_mark(CS_MARK_GC_STOP_WORLD);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_gc_start_world) {
  gc_mark(CS_MARK_GC_START_WORLD);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_gc_mark_termination) {
  gc_mark(CS_MARK_GC_MARK_TERMINATION);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_gc_limiter_finish) {
  gc_mark(CS_MARK_GC_LIMITER_FINISH);
  return 0;
}
