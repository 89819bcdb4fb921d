// SPDX-License-Identifier: GPL-2.0
/* The in-kernel half of `coldstart watch`: sees every service start on the
 * host, whoever started it, and timestamps its first readiness events.
 *
 * What a start is:
 *  - cgroup_mkdir in the unified (v2) hierarchy puts the new cgroup's id in
 *    `fresh` (state CG_FRESH); the first exec of a task in a fresh cgroup
 *    (CG_FRESH -> CG_STARTED) begins a start keyed by that cgroup id (a systemd unit, a container, a `coldstart run`
 *    service). When the start's tree is empty again the cgroup is fresh
 *    again, so a restart in a kept cgroup is a new start.
 *  - with --match (the `match_mode` constant), any other exec begins a
 *    provisional start keyed by CSW_KEY_TGID | tgid; user space checks the
 *    path and command line against the patterns and deletes the
 *    provisional starts that do not match.
 * When a start begins (t0, what its times count from), for the process
 * whose exec begins it:
 *  - cgroup start: if it was moved into the cgroup (cgroup_attach_task)
 *    after its fork, the move; else, if it was forked (or cloned straight
 *    into the cgroup) after the cgroup became fresh (its mkdir, or the end
 *    of its last start), the fork; else the exec;
 *  - --match start: the fork if this is its first exec since the fork, else
 *    the exec (a program that re-execs itself, a shell's `exec`).
 * The fork is task->start_time (set in copy_process with ktime_get_ns(),
 * the clock of bpf_ktime_get_ns(); de_thread hands it on to an exec'ing
 * thread). CSW_START carries t0, the exec and the fork, and says which t0
 * is (CSW_START_FROM_FORK, CSW_START_FROM_JOIN; neither: the exec).
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
 *    listen(2) caller's context (AF_UNIX: see on_libc_listen);
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
 * Also: AF_UNIX stream LISTEN and first connection, the loader-done and main
 * uprobes, and overlay mounts (see the programs below; the kernel has no
 * kprobes and refuses fentry, so these are tracepoints — BTF ones, and with
 * --syscall-probes syscall ones — and uprobes).
 *
 * Cost: the exec, fork and exit hooks run for every task on the host; for
 * a task in no start and no fresh cgroup they read its cgroup id through
 * BTF pointers and one slot of `cg_gate`, and return (no hash lookup);
 * nothing is emitted unless a start is involved.
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

enum { SEEN_LISTEN = 1, SEEN_NOTIFY = 2, SEEN_ACCEPT = 4, SEEN_ENTRY = 8, SEEN_MAIN = 16 };
#define CS_SOCK_STREAM 1
#define CS_SOCK_SEQPACKET 5

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

/* Every cgroup made (in the unified hierarchy) since the program was
 * loaded and not yet removed, with its state: CG_FRESH (no task has exec'd
 * in it since it was made or since its last start ended) or CG_STARTED;
 * since when it is fresh (its mkdir, or the end of its last start): a
 * process forked after that was made for the cgroup's next start; and the
 * last process moved into it while fresh (cgroup.procs), and when. */
enum { CG_FRESH = 1, CG_STARTED = 2 };
struct cg_state {
  __u32 state;
  __u32 joined_tgid;
  __u64 fresh_ns;
  __u64 joined_ns;
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct cg_state);
} fresh SEC(".maps");

/* The per-exec fast path: how many cgroups of `fresh` fall on each slot
 * (cgroup id mod CSW_GATE; ids are sequential, so they spread). A task whose
 * cgroup's slot is 0 is in no cgroup start and no fresh cgroup: the exec,
 * fork and exit programs (and the socket ones) return after one load from
 * .bss, with no hash lookup. A cgroup made before the program was loaded is
 * never a cgroup start. */
#define CSW_GATE (1 << 16)
__u32 cg_gate[CSW_GATE];

static __always_inline bool maybe_ours(__u64 cg) { return cg_gate[cg & (CSW_GATE - 1)] != 0; }

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

/* --match starts: listening AF_UNIX socket -> start (the listener of a
 * connect is found by its struct sock; LRU like `ports`). */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u64);
  __type(value, __u64);
} unix_listeners SEC(".maps");

/* An overlay mount(2) in progress: thread -> (begin, lower layers). */
struct mount_begin {
  __u64 ts_ns;
  __u64 layers;
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u64);
  __type(value, struct mount_begin);
} mounts SEC(".maps");

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
  e->exe_ino = 0;
  e->exe_dev = 0;
  e->pad = 0;
  e->mount_ns = 0;
  e->fork_ns = 0;
  e->t0_ns = 0;
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
static __always_inline struct start* cgroup_start(__u64 cg) {
  return maybe_ours(cg) ? bpf_map_lookup_elem(&starts, &cg) : 0;
}

/* The state of cgroup `cg` in `fresh` (0 if not there). */
static __always_inline struct cg_state* fresh_state(__u64 cg) {
  return maybe_ours(cg) ? bpf_map_lookup_elem(&fresh, &cg) : 0;
}

static __always_inline struct start* current_start(__u64* key) {
  __u64 cg = bpf_get_current_cgroup_id();
  struct start* st = cgroup_start(cg);
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
  struct cg_state state = {.state = CG_FRESH, .fresh_ns = bpf_ktime_get_ns()};
  if (bpf_map_update_elem(&fresh, &id, &state, BPF_NOEXIST) != 0) {
    __sync_fetch_and_add(&lost_cgroups, 1);
    return 0;
  }
  __sync_fetch_and_add(&cg_gate[id & (CSW_GATE - 1)], 1);
  struct csw_event* e = reserve(CSW_MKDIR, id, 0);
  if (!e) return 0;
  bpf_probe_read_kernel_str(e->data, sizeof(e->data), path);
  submit(e);
  return 0;
}

/* A task moved into a cgroup (a write to cgroup.procs; not a clone straight
 * into it, CLONE_INTO_CGROUP, which is its fork). Rare: only migrations. The
 * move waits for cgroup_threadgroup_rwsem, an RCU grace period when it is
 * not already held for writing (milliseconds); the tracepoint fires after
 * the move, so that wait is the service manager's, before the start. */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(on_cgroup_attach, struct cgroup* dst, const char* path, struct task_struct* task,
             bool threadgroup) {
  if (BPF_CORE_READ(dst, root, hierarchy_id) != 0) return 0;
  __u64 id = BPF_CORE_READ(dst, kn, id);
  struct cg_state* state = fresh_state(id);
  if (!state || state->state != CG_FRESH) return 0;
  state->joined_tgid = BPF_CORE_READ(task, tgid);
  state->joined_ns = bpf_ktime_get_ns();
  return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(on_cgroup_rmdir, struct cgroup* cgrp, const char* path) {
  if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0) return 0;
  __u64 id = BPF_CORE_READ(cgrp, kn, id);
  if (bpf_map_delete_elem(&fresh, &id) != 0) return 0; /* not one we watched */
  __sync_fetch_and_add(&cg_gate[id & (CSW_GATE - 1)], -1);
  bpf_map_delete_elem(&starts, &id);
  struct csw_event* e = reserve(CSW_RMDIR, id, 0);
  if (e) submit(e);
  return 0;
}

static __always_inline void emit_exec(__u32 kind, __u64 key, struct task_struct* p, struct linux_binprm* bprm,
                                      __u32 flags, __u64 exec_ns, __u64 t0_ns) {
  struct csw_event* e = reserve(kind, key, p->tgid);
  if (!e) return;
  if (exec_ns) e->ts_ns = exec_ns;
  e->aux = flags;
  e->fork_ns = p->start_time;
  e->t0_ns = t0_ns;
  struct inode* ino = BPF_CORE_READ(bprm, file, f_inode);
  e->exe_ino = BPF_CORE_READ(ino, i_ino);
  e->exe_dev = BPF_CORE_READ(ino, i_sb, s_dev);
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
  __u64 cg = p->cgroups->dfl_cgrp->kn->id; /* p is current; BTF loads, no helper call */
  if (!match_mode && !maybe_ours(cg)) return 0; /* the common case: nothing to do */
  __u64 key = cg;
  struct start* st = cgroup_start(cg);
  if (!st && match_mode) {
    __u64* k = bpf_map_lookup_elem(&procs, &tgid);
    if (k) {
      key = *k;
      st = bpf_map_lookup_elem(&starts, &key);
    }
  }
  if (st) {
    if (st->root == tgid) {
      __sync_fetch_and_and(&st->seen, ~(__u32)(SEEN_ENTRY | SEEN_MAIN)); /* a new image: its own entry and main */
      emit_exec(CSW_EXEC, key, p, bprm, 0, 0, 0);
    }
    return 0;
  }
  __u32 provisional = 0;
  __u64 now = bpf_ktime_get_ns(), forked = p->start_time, t0 = now;
  __u32 t0_flag = 0;
  struct cg_state* state = fresh_state(cg);
  if (state && __sync_val_compare_and_swap(&state->state, CG_FRESH, CG_STARTED) == CG_FRESH) {
    key = cg;
    if (state->joined_tgid == tgid && state->joined_ns >= state->fresh_ns && state->joined_ns <= now &&
        state->joined_ns > forked) {
      t0 = state->joined_ns; /* forked elsewhere, then moved in: from the move */
      t0_flag = CSW_START_FROM_JOIN;
    } else if (forked >= state->fresh_ns && forked <= now) {
      t0 = forked; /* forked (or cloned straight into it) for this start */
      t0_flag = CSW_START_FROM_FORK;
    }
    state->joined_tgid = 0;
  } else if (match_mode) {
    key = CSW_KEY_TGID | tgid;
    provisional = 1;
    /* Its first exec since its fork (each exec bumps self_exec_id; a fork
     * sets the child's parent_exec_id to the parent's value, which it also
     * copies): forked to run this program, not a process that re-execs. */
    if (BPF_CORE_READ(p, self_exec_id) == BPF_CORE_READ(p, parent_exec_id) + 1 && forked <= now) {
      t0 = forked;
      t0_flag = CSW_START_FROM_FORK;
    }
  } else {
    return 0;
  }
  struct start s = {};
  s.exec_ns = now;
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
  __u32 flags = provisional ? CSW_START_PROVISIONAL : 0;
  __u32 ns = BPF_CORE_READ(p, nsproxy, mnt_ns, ns.inum), parent_ns = BPF_CORE_READ(p, real_parent, nsproxy, mnt_ns, ns.inum);
  if (ns && parent_ns && ns != parent_ns) flags |= CSW_START_NEW_MNTNS;
  flags |= t0_flag;
  emit_exec(CSW_START, key, p, bprm, flags, now, t0);
  return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct* parent, struct task_struct* child) {
  if (child->pid != child->tgid) return 0; /* a thread */
  __u64 cg = child->cgroups->dfl_cgrp->kn->id; /* BTF loads, no helper calls */
  struct start* st = cgroup_start(cg);
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
  __u64 key = p->cgroups->dfl_cgrp->kn->id; /* p is current */
  struct start* st = cgroup_start(key);
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
    struct cg_state* state = fresh_state(key); /* empty again: the next exec in it is a new start */
    if (state) {
      state->fresh_ns = bpf_ktime_get_ns();
      state->joined_tgid = 0;
      state->state = CG_FRESH;
    }
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
  struct start* st = cgroup_start(key);
  if (!st && match_mode) {
    __u64* k = bpf_map_lookup_elem(&ports, &port);
    if (!k) return 0;
    key = *k;
    st = bpf_map_lookup_elem(&starts, &key);
  }
  if (!st) return 0;
  milestone(CSW_ACCEPT, SEEN_ACCEPT, key, st, 0, BPF_CORE_READ(sk, __sk_common.skc_family), port);
  return 0;
}

/* AF_UNIX stream (and seqpacket) sockets have no state-change tracepoint,
 * and this kernel has no kprobes (CONFIG_KPROBES off) and refuses fentry:
 *  - first connection: tp_btf/sk_data_ready, which sock_def_readable() fires
 *    on the listener when connect(2) has queued a connection on it for
 *    accept(2) (the counterpart of TCP's completed handshake). A unix
 *    listener is in TCP_LISTEN state; data on connected sockets is skipped
 *    by that test. The start is found through the listener: its cgroup
 *    (sk_cgrp_data), or for --match starts `unix_listeners`.
 *  - LISTEN: a uprobe on the C library's listen(fd, backlog), attached by
 *    user space to the host's libc (see libc_probes.cc), in the caller's
 *    context: the fd is looked up in the task's file table; only a bound
 *    AF_UNIX stream/seqpacket socket is recorded (TCP has its tracepoint).
 *    Programs that make the syscall themselves (Go) are seen only by the
 *    syscall tracepoint (on_sys_exit_listen, --syscall-probes). */
SEC("tp_btf/sk_data_ready")
int BPF_PROG(on_sk_data_ready, const struct sock* sk) {
  if (BPF_CORE_READ(sk, __sk_common.skc_family) != CS_AF_UNIX ||
      BPF_CORE_READ(sk, __sk_common.skc_state) != CS_TCP_LISTEN)
    return 0;
  __u64 key = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
  struct start* st = cgroup_start(key);
  if (!st && match_mode) {
    __u64 skp = (__u64)sk;
    __u64* k = bpf_map_lookup_elem(&unix_listeners, &skp);
    if (!k) return 0;
    key = *k;
    st = bpf_map_lookup_elem(&starts, &key);
  }
  if (!st) return 0;
  milestone(CSW_ACCEPT, SEEN_ACCEPT, key, st, 0, CS_AF_UNIX, 0);
  return 0;
}

#define CS_S_IFMT 0170000
#define CS_S_IFSOCK 0140000

/* listen(fd) by the current task, in its context, as it enters (the libc
 * uprobe) or leaves it successfully (the syscall tracepoint): records the
 * start's first AF_UNIX stream/seqpacket LISTEN. */
static __always_inline int unix_listen(int fd) {
  __u64 key = 0;
  struct start* st = current_start(&key);
  if (!st || fd < 0) return 0;
  struct task_struct* t = bpf_get_current_task_btf();
  struct fdtable* fdt = BPF_CORE_READ(t, files, fdt);
  if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds)) return 0;
  struct file** fds = BPF_CORE_READ(fdt, fd);
  struct file* f = 0;
  if (bpf_probe_read_kernel(&f, sizeof f, &fds[fd]) != 0 || !f) return 0;
  if ((BPF_CORE_READ(f, f_inode, i_mode) & CS_S_IFMT) != CS_S_IFSOCK) return 0;
  struct socket* sock = BPF_CORE_READ(f, private_data);
  struct sock* sk = BPF_CORE_READ(sock, sk);
  if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != CS_AF_UNIX) return 0;
  __u16 type = BPF_CORE_READ(sk, sk_type);
  if (type != CS_SOCK_STREAM && type != CS_SOCK_SEQPACKET) return 0;
  struct unix_address* addr = BPF_CORE_READ((struct unix_sock*)sk, addr);
  if (!addr) return 0; /* not bound: listen(2) fails */
  if (match_mode && (key & CSW_KEY_TGID)) {
    __u64 skp = (__u64)sk;
    bpf_map_update_elem(&unix_listeners, &skp, &key, BPF_ANY);
  }
  if (st->seen & SEEN_LISTEN) return 0;
  __sync_fetch_and_or(&st->seen, SEEN_LISTEN);
  struct csw_event* e = reserve(CSW_LISTEN, key, bpf_get_current_pid_tgid() >> 32);
  if (!e) return 0;
  e->aux = CS_AF_UNIX;
  snapshot(e, st, t);
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  int len = BPF_CORE_READ(addr, len); /* sizeof(sa_family_t) + path bytes */
  const char* path = (const char*)addr + bpf_core_field_offset(struct unix_address, name) + 2;
  char first = 0;
  bpf_probe_read_kernel(&first, 1, path);
  if (first != 0) {
    bpf_probe_read_kernel_str(e->data, sizeof(e->data), path);
  } else if (len > 3) { /* abstract: a NUL, then len - 3 name bytes, not NUL-terminated */
    __u32 n = (__u32)(len - 3);
    if (n > CSW_DATA - 2) n = CSW_DATA - 2;
    e->data[0] = '@';
    bpf_probe_read_kernel(e->data + 1, n & (CSW_DATA - 1), path + 1);
    e->data[(n + 1) & (CSW_DATA - 1)] = 0;
  }
  submit(e);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_libc_listen, int fd, int backlog) { return unix_listen(fd); }

/* The current task's saved user registers: the arguments of the syscall it
 * is in (x86-64: di, si, dx, r10, ...; orig_ax its number). */
static __always_inline struct pt_regs* syscall_regs(void) {
  return (struct pt_regs*)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* The listen(2) syscall itself, whoever makes it (Go and other programs
 * that make raw syscalls, a container's own libc): the syscalls:
 * sys_exit_listen tracepoint, a perf tracepoint attached by user space
 * (--syscall-probes; its id comes from tracefs). The program runs only for
 * listen, but enabling any syscall event puts every task's syscalls on the
 * tracepoint path (TIF_SYSCALL_TRACEPOINT): see docs/watch.md for the cost.
 * The fd is the first argument, in the task's saved user registers (di). */
SEC("tracepoint/syscalls/sys_exit_listen")
int on_sys_exit_listen(struct trace_event_raw_sys_exit* ctx) {
  if (ctx->ret != 0) return 0;
  struct pt_regs* regs = syscall_regs();
  if (!regs) return 0;
  return unix_listen((int)BPF_CORE_READ(regs, di));
}

/* Loader done and main, per start: uprobes that user space attaches to the
 * ELF entry point and to main / main.main of a start's executable (one pair
 * per distinct executable, see phase_probes.cc). They fire for every process
 * on the host that runs that binary; only the root of a start, once per
 * image (on_exec clears the bits when the root execs again), is recorded. */
static __always_inline int phase(__u32 kind, __u32 seen) {
  __u64 key = 0;
  struct start* st = current_start(&key);
  if (!st) return 0;
  if (st->root != (__u32)(bpf_get_current_pid_tgid() >> 32)) return 0;
  milestone(kind, seen, key, st, bpf_get_current_task_btf(), 0, 0);
  return 0;
}

SEC("uprobe")
int on_entry(struct pt_regs* ctx) { return phase(CSW_ENTRY, SEEN_ENTRY); }

SEC("uprobe")
int on_main(struct pt_regs* ctx) { return phase(CSW_MAIN, SEEN_MAIN); }


/* Overlay mounts, made by a task of a start or of a fresh cgroup (a runtime
 * preparing a container's root before its first exec; user space keeps
 * those until the cgroup's start):
 *  - mount(2) through the C library: a uprobe and a uretprobe on libc's
 *    mount(source, target, fstype, flags, data), attached to the host's libc
 *    like listen's (--libc-probes: runtimes written in C, mount(8));
 *  - with --syscall-probes, the syscalls themselves, whoever makes them (Go
 *    runtimes, coldstart's own --image path): sys_enter/sys_exit_mount, and
 *    the new mount API — fsopen("overlay") opens a context (keyed by thread
 *    group and fd), fsconfig counts its lower layers ("lowerdir" a:b:c, or
 *    one "lowerdir+" per layer, Linux 6.8) and its FSCONFIG_CMD_CREATE, which
 *    makes the superblock (overlayfs' real work), ends it: the duration is
 *    fsopen's return to CMD_CREATE's. fsmount/move_mount only attach it.
 * Only fstype "overlay" is followed; layers are counted in the first 256
 * bytes of the option string. A glibc mount() seen by both the uprobe and
 * the syscall tracepoints is recorded once (the syscall's begin replaces
 * the uprobe's; the first return records and forgets it). */
#define CSW_MOUNT_SCAN 256

static __always_inline bool is_overlay(const char* fstype) {
  char type[8] = {};
  if (bpf_probe_read_user_str(type, sizeof type, fstype) != 8) return false;
  return type[0] == 'o' && type[1] == 'v' && type[2] == 'e' && type[3] == 'r' && type[4] == 'l' && type[5] == 'a' &&
         type[6] == 'y';
}

/* The start (or fresh cgroup) an overlay mount by the current task is made for, or 0. */
static __always_inline __u64 mount_owner(void) {
  __u64 key = 0;
  if (current_start(&key)) return key;
  key = bpf_get_current_cgroup_id();
  struct cg_state* state = fresh_state(key);
  return state && state->state == CG_FRESH ? key : 0;
}

/* Entries of lowerdir= in a mount(2) option string: "lowerdir=a:b:c" -> 3. */
static __always_inline __u64 lower_layers_in_options(const char* data) {
  char opts[CSW_MOUNT_SCAN] = {};
  if (!data || bpf_probe_read_user_str(opts, sizeof opts, data) <= 0) return 0;
  for (int i = 0; i + 9 < CSW_MOUNT_SCAN; i++) {
    if ((i == 0 || opts[i - 1] == ',') && opts[i] == 'l' && opts[i + 1] == 'o' && opts[i + 2] == 'w' &&
        opts[i + 3] == 'e' && opts[i + 4] == 'r' && opts[i + 5] == 'd' && opts[i + 6] == 'i' && opts[i + 7] == 'r' &&
        opts[i + 8] == '=') {
      __u64 layers = 1;
      for (int j = i + 9; j < CSW_MOUNT_SCAN; j++) {
        if (opts[j] == 0 || opts[j] == ',') break;
        if (opts[j] == ':') layers++;
      }
      return layers;
    }
    if (opts[i] == 0) break;
  }
  return 0;
}

static __always_inline void emit_mount(__u64 key, __u64 begin_ns, __u64 layers) {
  struct csw_event* e = reserve(CSW_MOUNT, key, bpf_get_current_pid_tgid() >> 32);
  if (!e) return;
  e->aux = (__u32)layers;
  e->mount_ns = e->ts_ns - begin_ns;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  submit(e);
}

static __always_inline int mount_begin(const char* fstype, const char* data) {
  if (!is_overlay(fstype) || !mount_owner()) return 0;
  struct mount_begin b = {};
  b.layers = lower_layers_in_options(data);
  b.ts_ns = bpf_ktime_get_ns();
  __u64 tid = bpf_get_current_pid_tgid();
  bpf_map_update_elem(&mounts, &tid, &b, BPF_ANY);
  return 0;
}

static __always_inline int mount_done(long ret) {
  __u64 tid = bpf_get_current_pid_tgid();
  struct mount_begin* b = bpf_map_lookup_elem(&mounts, &tid);
  if (!b) return 0;
  __u64 begin = b->ts_ns, layers = b->layers;
  bpf_map_delete_elem(&mounts, &tid);
  if (ret != 0) return 0;
  __u64 key = mount_owner();
  if (key) emit_mount(key, begin, layers);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_libc_mount, const char* source, const char* target, const char* fstype, unsigned long flags,
               const char* data) {
  return mount_begin(fstype, data);
}

SEC("uretprobe")
int BPF_KRETPROBE(on_libc_mount_done, int ret) { return mount_done(ret); }

SEC("tracepoint/syscalls/sys_enter_mount")
int on_sys_enter_mount(struct trace_event_raw_sys_enter* ctx) {
  return mount_begin((const char*)ctx->args[2], (const char*)ctx->args[4]);
}

SEC("tracepoint/syscalls/sys_exit_mount")
int on_sys_exit_mount(struct trace_event_raw_sys_exit* ctx) { return mount_done(ctx->ret); }

/* An overlay filesystem context being configured (fsopen .. CMD_CREATE). */
struct fs_context_state {
  __u64 begin_ns;
  __u64 layers;
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 1024);
  __type(key, __u64); /* tgid << 32 | fd */
  __type(value, struct fs_context_state);
} fs_contexts SEC(".maps");

#define CS_FSCONFIG_SET_STRING 1
#define CS_FSCONFIG_CMD_CREATE 6
#define CS_FSCONFIG_CMD_CREATE_EXCL 8

SEC("tracepoint/syscalls/sys_exit_fsopen")
int on_sys_exit_fsopen(struct trace_event_raw_sys_exit* ctx) {
  if (ctx->ret < 0) return 0;
  struct pt_regs* regs = syscall_regs();
  if (!regs || !is_overlay((const char*)BPF_CORE_READ(regs, di)) || !mount_owner()) return 0;
  __u64 k = (bpf_get_current_pid_tgid() & 0xffffffff00000000ULL) | (__u32)ctx->ret;
  struct fs_context_state st = {.begin_ns = bpf_ktime_get_ns(), .layers = 0};
  bpf_map_update_elem(&fs_contexts, &k, &st, BPF_ANY);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_fsconfig")
int on_sys_exit_fsconfig(struct trace_event_raw_sys_exit* ctx) {
  if (ctx->ret != 0) return 0;
  struct pt_regs* regs = syscall_regs();
  if (!regs) return 0;
  __u64 k = (bpf_get_current_pid_tgid() & 0xffffffff00000000ULL) | (__u32)BPF_CORE_READ(regs, di);
  struct fs_context_state* st = bpf_map_lookup_elem(&fs_contexts, &k);
  if (!st) return 0;
  unsigned long cmd = BPF_CORE_READ(regs, si);
  if (cmd == CS_FSCONFIG_SET_STRING) {
    char key[12] = {};
    if (bpf_probe_read_user_str(key, sizeof key, (const char*)BPF_CORE_READ(regs, dx)) < 9) return 0;
    if (key[0] != 'l' || key[1] != 'o' || key[2] != 'w' || key[3] != 'e' || key[4] != 'r' || key[5] != 'd' ||
        key[6] != 'i' || key[7] != 'r')
      return 0;
    if (key[8] == '+' && key[9] == 0) {
      st->layers++;
    } else if (key[8] == 0) {
      char value[CSW_MOUNT_SCAN] = {};
      if (bpf_probe_read_user_str(value, sizeof value, (const char*)BPF_CORE_READ(regs, r10)) <= 0) return 0;
      __u64 layers = 1;
      for (int j = 0; j < CSW_MOUNT_SCAN; j++) {
        if (value[j] == 0) break;
        if (value[j] == ':') layers++;
      }
      st->layers = layers;
    }
    return 0;
  }
  if (cmd != CS_FSCONFIG_CMD_CREATE && cmd != CS_FSCONFIG_CMD_CREATE_EXCL) return 0;
  __u64 begin = st->begin_ns, layers = st->layers;
  bpf_map_delete_elem(&fs_contexts, &k);
  __u64 owner = mount_owner();
  if (owner) emit_mount(owner, begin, layers);
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
  struct pt_regs* regs = syscall_regs();
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
