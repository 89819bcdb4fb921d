// SPDX-License-Identifier: GPL-2.0
/* The in-kernel half of `coldstart watch`: sees every service start on the
 * host, whoever started it, and timestamps its first readiness events.
 *
 * What a start is:
 *  - cgroup_mkdir in the unified (v2) hierarchy puts the new cgroup's id in
 *    `fresh`; the first exec of a task in a fresh cgroup begins a start keyed
 *    by that cgroup id (a systemd unit, a container, a `coldstart run`
 *    service). When the start's tree is empty again the cgroup is fresh
 *    again, so a restart in a kept cgroup is a new start.
 *  - with --match (the `match_mode` constant), any other exec begins a
 *    provisional start keyed by CSW_KEY_TGID | tgid; user space checks the
 *    path and command line against the patterns and deletes the
 *    provisional starts that do not match.
 * The tree is followed in the kernel: for a cgroup start every process in
 * that cgroup belongs to it (one lookup of the current cgroup id); for a
 * --match start `procs` maps each tgid forked from it to its key. `live`
 * counts the start's processes (forks in, leader exits out); at 0 the start
 * ends with the exit status of its last process.
 *
 * Milestones, each taken once per start, all from BTF tracepoints (tp_btf:
 * fentry/fexit and LSM programs would be more direct, but not every kernel
 * or sandbox lets them load — this one answers EPERM even to root):
 *  - first LISTEN: inet_sock_set_state to TCP_LISTEN (TCP v4/v6), in the
 *    listen(2) caller's context;
 *  - first READY=1: sock_send_length of an AF_UNIX datagram whose payload
 *    (first CSW_NOTIFY_SCAN bytes) has a line READY=1 — what sd_notify sends
 *    to $NOTIFY_SOCKET;
 *  - first accepted connection: the first TCP handshake completed on one of
 *    the start's listening sockets (SYN_RECV -> ESTABLISHED), i.e. the
 *    connection the kernel accepted and queued for accept(2).
 * With LISTEN and READY=1: CPU time = what the start's exited processes used plus the
 * current thread group's (its thread's sum_exec_runtime as of its last
 * scheduler accounting, plus its exited threads); major faults likewise;
 * CPU-throttled time = growth of the task group's cfs_bandwidth.throttled_time
 * since the start's exec (0 without a CPU limit).
 *
 * Cost: the exec, fork and exit hooks run for every task on the host and do
 * one or two hash lookups; nothing is emitted unless a start is involved.
 * Records are submitted with BPF_RB_NO_WAKEUP (user space drains on a timer).
 * Every map has a fixed size; a failed insert or reserve bumps a counter.
 * Timestamps are bpf_ktime_get_ns() = CLOCK_MONOTONIC. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "watch_events.h"

char LICENSE[] SEC("license") = "GPL";

#define CS_AF_UNIX 1
#define CS_SOCK_DGRAM 2
#define CS_TCP_ESTABLISHED 1
#define CS_TCP_SYN_RECV 3
#define CS_TCP_LISTEN 10
#define CSW_NOTIFY_SCAN 64

enum { SEEN_LISTEN = 1, SEEN_NOTIFY = 2, SEEN_ACCEPT = 4 };

struct start {
  __u64 exec_ns;
  __u64 cpu_exited;
  __u64 majflt_exited;
  __u64 throttled0;
  __u32 root;
  __s32 live;
  __u32 seen;
  __u32 pad;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, __u8);
} fresh SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u64);
  __type(value, struct start);
} starts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, __u64);
} procs SEC(".maps");

/* --match starts: listening TCP port -> start, to find the start of a
 * connection completed in softirq. LRU: a stale port ages out by itself. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u16);
  __type(value, __u64);
} ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} events SEC(".maps");

const volatile __u32 match_mode = 0;

__u64 lost_events;  /* ring buffer full */
__u64 lost_starts;  /* `starts` full: a start not followed */
__u64 lost_cgroups; /* `fresh` full: a new cgroup not watched */
__u64 lost_procs;   /* `procs` full: a --match child not followed */

static __always_inline struct csw_event* reserve(__u32 kind, __u64 key, __u32 pid) {
  struct csw_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __sync_fetch_and_add(&lost_events, 1);
    return 0;
  }
  e->kind = kind;
  e->pid = pid;
  e->key = key;
  e->ts_ns = bpf_ktime_get_ns();
  e->cpu_ns = 0;
  e->major_faults = 0;
  e->throttled_ns = 0;
  e->aux = 0;
  e->aux2 = 0;
  e->comm[0] = 0;
  e->data[0] = 0;
  e->args[0] = 0;
  return e;
}

static __always_inline void submit(struct csw_event* e) { bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP); }

static __always_inline __u64 throttled_of(struct task_struct* t) {
  if (!bpf_core_field_exists(t->sched_task_group)) return 0;
  struct task_group* tg = BPF_CORE_READ(t, sched_task_group);
  if (!tg || !bpf_core_field_exists(tg->cfs_bandwidth)) return 0;
  return BPF_CORE_READ(tg, cfs_bandwidth.throttled_time);
}

static __always_inline __u64 cpu_of(struct task_struct* t) {
  return BPF_CORE_READ(t, se.sum_exec_runtime) + BPF_CORE_READ(t, signal, sum_sched_runtime);
}

static __always_inline __u64 majflt_of(struct task_struct* t) {
  return BPF_CORE_READ(t, maj_flt) + BPF_CORE_READ(t, signal, maj_flt);
}

static __always_inline void snapshot(struct csw_event* e, struct start* st, struct task_struct* t) {
  e->cpu_ns = st->cpu_exited + cpu_of(t);
  e->major_faults = st->majflt_exited + majflt_of(t);
  __u64 thr = throttled_of(t);
  e->throttled_ns = thr > st->throttled0 ? thr - st->throttled0 : 0;
}

/* The start the current task belongs to (and its key), or 0. */
static __always_inline struct start* current_start(__u64* key) {
  __u64 cg = bpf_get_current_cgroup_id();
  struct start* st = bpf_map_lookup_elem(&starts, &cg);
  if (st) {
    *key = cg;
    return st;
  }
  if (!match_mode) return 0;
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  __u64* k = bpf_map_lookup_elem(&procs, &tgid);
  if (!k) return 0;
  __u64 found = *k;
  *key = found;
  return bpf_map_lookup_elem(&starts, &found);
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(on_cgroup_mkdir, struct cgroup* cgrp, const char* path) {
  if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0) return 0; /* 0: the unified hierarchy */
  __u64 id = BPF_CORE_READ(cgrp, kn, id);
  __u8 one = 1;
  if (bpf_map_update_elem(&fresh, &id, &one, BPF_ANY) != 0) {
    __sync_fetch_and_add(&lost_cgroups, 1);
    return 0;
  }
  struct csw_event* e = reserve(CSW_MKDIR, id, 0);
  if (!e) return 0;
  bpf_probe_read_kernel_str(e->data, sizeof(e->data), path);
  submit(e);
  return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(on_cgroup_rmdir, struct cgroup* cgrp, const char* path) {
  if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0) return 0;
  __u64 id = BPF_CORE_READ(cgrp, kn, id);
  if (bpf_map_delete_elem(&fresh, &id) != 0) return 0; /* not one we watched */
  bpf_map_delete_elem(&starts, &id);
  struct csw_event* e = reserve(CSW_RMDIR, id, 0);
  if (e) submit(e);
  return 0;
}

static __always_inline void emit_exec(__u32 kind, __u64 key, struct task_struct* p, struct linux_binprm* bprm,
                                      __u32 provisional) {
  struct csw_event* e = reserve(kind, key, p->tgid);
  if (!e) return;
  e->aux = provisional;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_probe_read_kernel_str(e->data, sizeof(e->data), BPF_CORE_READ(bprm, filename));
  unsigned long a = BPF_CORE_READ(p, mm, arg_start), b = BPF_CORE_READ(p, mm, arg_end);
  __u32 n = b > a ? (__u32)(b - a) : 0;
  if (n > CSW_ARGS) n = CSW_ARGS;
  if (n > 0 && bpf_probe_read_user(e->args, n, (const void*)a) == 0) e->aux2 = n;
  submit(e);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct* p, pid_t old_pid, struct linux_binprm* bprm) {
  __u32 tgid = p->tgid;
  __u64 cg = bpf_get_current_cgroup_id();
  __u64 key = cg;
  struct start* st = bpf_map_lookup_elem(&starts, &cg);
  if (!st && match_mode) {
    __u64* k = bpf_map_lookup_elem(&procs, &tgid);
    if (k) {
      key = *k;
      st = bpf_map_lookup_elem(&starts, &key);
    }
  }
  if (st) {
    if (st->root == tgid) emit_exec(CSW_EXEC, key, p, bprm, 0);
    return 0;
  }
  __u32 provisional = 0;
  if (bpf_map_lookup_elem(&fresh, &cg)) {
    key = cg;
    bpf_map_delete_elem(&fresh, &cg);
  } else if (match_mode) {
    key = CSW_KEY_TGID | tgid;
    provisional = 1;
  } else {
    return 0;
  }
  struct start s = {};
  s.exec_ns = bpf_ktime_get_ns();
  s.root = tgid;
  s.live = 1;
  s.throttled0 = throttled_of(p);
  if (bpf_map_update_elem(&starts, &key, &s, BPF_ANY) != 0) {
    __sync_fetch_and_add(&lost_starts, 1);
    return 0;
  }
  if (provisional && bpf_map_update_elem(&procs, &tgid, &key, BPF_ANY) != 0) {
    __sync_fetch_and_add(&lost_procs, 1);
    bpf_map_delete_elem(&starts, &key);
    return 0;
  }
  emit_exec(CSW_START, key, p, bprm, provisional);
  return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct* parent, struct task_struct* child) {
  if (child->pid != child->tgid) return 0; /* a thread */
  __u64 cg = BPF_CORE_READ(child, cgroups, dfl_cgrp, kn, id);
  struct start* st = bpf_map_lookup_elem(&starts, &cg);
  if (st) {
    __sync_fetch_and_add(&st->live, 1);
    return 0;
  }
  if (!match_mode) return 0;
  __u32 ptgid = parent->tgid, ctgid = child->tgid;
  __u64* k = bpf_map_lookup_elem(&procs, &ptgid);
  if (!k) return 0;
  __u64 key = *k;
  st = bpf_map_lookup_elem(&starts, &key);
  if (!st) {
    bpf_map_delete_elem(&procs, &ptgid); /* its start was dropped */
    return 0;
  }
  if (bpf_map_update_elem(&procs, &ctgid, &key, BPF_ANY) != 0) {
    __sync_fetch_and_add(&lost_procs, 1);
    return 0;
  }
  __sync_fetch_and_add(&st->live, 1);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct* p) {
  if (p->pid != p->tgid) return 0; /* a thread: its process goes with its leader */
  __u32 tgid = p->tgid;
  __u64 key = bpf_get_current_cgroup_id();
  struct start* st = bpf_map_lookup_elem(&starts, &key);
  if (!st && match_mode) {
    __u64* k = bpf_map_lookup_elem(&procs, &tgid);
    if (!k) return 0;
    key = *k;
    bpf_map_delete_elem(&procs, &tgid);
    st = bpf_map_lookup_elem(&starts, &key);
  }
  if (!st) return 0;
  __sync_fetch_and_add(&st->cpu_exited, cpu_of(p));
  __sync_fetch_and_add(&st->majflt_exited, majflt_of(p));
  if (__sync_fetch_and_add(&st->live, -1) > 1) return 0;
  struct csw_event* e = reserve(CSW_END, key, tgid);
  if (e) {
    e->aux = p->exit_code;
    e->cpu_ns = st->cpu_exited;
    e->major_faults = st->majflt_exited;
    __u64 thr = throttled_of(p);
    e->throttled_ns = thr > st->throttled0 ? thr - st->throttled0 : 0;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    submit(e);
  }
  bpf_map_delete_elem(&starts, &key);
  if (!(key & CSW_KEY_TGID)) {
    __u8 one = 1; /* empty again: the next exec in it is a new start */
    if (bpf_map_update_elem(&fresh, &key, &one, BPF_ANY) != 0) __sync_fetch_and_add(&lost_cgroups, 1);
  }
  return 0;
}

/* Records a milestone of start `st` once. `t` is the task that reached it,
 * or 0 when the kernel reached it on the start's behalf (a handshake in
 * softirq): then no CPU/fault snapshot is taken (cpu_ns = CSW_NO_TASK). */
static __always_inline void milestone(__u32 kind, __u32 seen, __u64 key, struct start* st, struct task_struct* t,
                                      __u32 aux, __u32 aux2) {
  if (st->seen & seen) return;
  __sync_fetch_and_or(&st->seen, seen);
  struct csw_event* e = reserve(kind, key, t ? t->tgid : 0);
  if (!e) return;
  e->aux = aux;
  e->aux2 = aux2;
  if (t) {
    snapshot(e, st, t);
    bpf_get_current_comm(e->comm, sizeof(e->comm));
  } else {
    e->cpu_ns = CSW_NO_TASK;
  }
  submit(e);
}

/* TCP state changes (v4 and v6):
 *  - -> LISTEN in listen(2) (inet_csk_listen_start), in the caller's context;
 *  - SYN_RECV -> ESTABLISHED on the child socket when the handshake of a
 *    connection to a listener completes, in softirq: the connection is
 *    accepted by the kernel and queued for accept(2). The current task is
 *    unrelated there, so the start is found through the socket: a child
 *    socket inherits its listener's cgroup (sk_cgrp_data, cloned in
 *    sk_clone_lock), and --match starts through the listening port. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_sock_state, const struct sock* sk, const int oldstate, const int newstate) {
  __u16 port = BPF_CORE_READ(sk, __sk_common.skc_num);
  if (newstate == CS_TCP_LISTEN) {
    __u64 key = 0;
    struct start* st = current_start(&key);
    if (!st) return 0;
    if (match_mode && (key & CSW_KEY_TGID)) bpf_map_update_elem(&ports, &port, &key, BPF_ANY);
    milestone(CSW_LISTEN, SEEN_LISTEN, key, st, bpf_get_current_task_btf(), BPF_CORE_READ(sk, __sk_common.skc_family),
              port);
    return 0;
  }
  if (newstate != CS_TCP_ESTABLISHED || oldstate != CS_TCP_SYN_RECV) return 0;
  __u64 key = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
  struct start* st = bpf_map_lookup_elem(&starts, &key);
  if (!st && match_mode) {
    __u64* k = bpf_map_lookup_elem(&ports, &port);
    if (!k) return 0;
    key = *k;
    st = bpf_map_lookup_elem(&starts, &key);
  }
  if (!st) return 0;
  milestone(CSW_ACCEPT, SEEN_ACCEPT, key, st, 0, 0, port);
  return 0;
}

/* Does buf[0..n) hold a line "READY=1"? */
static __always_inline bool has_ready(const char* buf, __u32 n) {
  for (int i = 0; i + 7 <= CSW_NOTIFY_SCAN; i++) {
    if (i + 7 > n) break;
    if (i > 0 && buf[i - 1] != '\n') continue;
    if (buf[i] == 'R' && buf[i + 1] == 'E' && buf[i + 2] == 'A' && buf[i + 3] == 'D' && buf[i + 4] == 'Y' &&
        buf[i + 5] == '=' && buf[i + 6] == '1' && (i + 7 == n || buf[i + 7] == '\n' || buf[i + 7] == 0))
      return true;
  }
  return false;
}

/* x86-64 syscall numbers of the sends that reach sock_sendmsg. */
enum { NR_write = 1, NR_sendto = 44, NR_sendmsg = 46 };

/* After every socket send (sock_sendmsg_nosec), in the sender's context.
 * Only AF_UNIX datagrams of a start are looked at; the payload is read from
 * the user buffer the syscall named (the task's saved user registers: rsi is
 * the buffer of write/sendto and the msghdr of sendmsg). */
SEC("tp_btf/sock_send_length")
int BPF_PROG(on_sock_send, struct sock* sk, int ret, int flags) {
  if (ret <= 0) return 0;
  if (BPF_CORE_READ(sk, __sk_common.skc_family) != CS_AF_UNIX || BPF_CORE_READ(sk, sk_type) != CS_SOCK_DGRAM)
    return 0;
  __u64 key = 0;
  struct start* st = current_start(&key);
  if (!st || (st->seen & SEEN_NOTIFY)) return 0;
  struct task_struct* t = bpf_get_current_task_btf();
  struct pt_regs* regs = (struct pt_regs*)bpf_task_pt_regs(t);
  if (!regs) return 0;
  long nr = BPF_CORE_READ(regs, orig_ax);
  const void* ubuf = (const void*)BPF_CORE_READ(regs, si);
  __u64 len = BPF_CORE_READ(regs, dx);
  if (nr == NR_sendmsg) {
    struct user_msghdr m = {};
    struct iovec v = {};
    if (bpf_probe_read_user(&m, sizeof m, ubuf) != 0 || !m.msg_iov || m.msg_iovlen < 1) return 0;
    if (bpf_probe_read_user(&v, sizeof v, m.msg_iov) != 0) return 0;
    ubuf = v.iov_base;
    len = v.iov_len;
  } else if (nr != NR_sendto && nr != NR_write) {
    return 0;
  }
  char buf[CSW_NOTIFY_SCAN + 1] = {};
  __u32 n = len < CSW_NOTIFY_SCAN ? (__u32)len : CSW_NOTIFY_SCAN;
  if (n == 0 || bpf_probe_read_user(buf, n, ubuf) != 0) return 0;
  if (!has_ready(buf, n)) return 0;
  milestone(CSW_NOTIFY, SEEN_NOTIFY, key, st, t, 0, 0);
  return 0;
}
