/* The records the BPF tracer (trace.bpf.c) writes into its ring buffer and
 * tracer_bpf.cc reads. Shared by the BPF program (C, vmlinux.h types) and
 * C++ (linux/types.h), so it uses only __u32/__u64 and fixed layouts. */
#ifndef COLDSTART_TRACE_BPF_TRACE_EVENTS_H
#define COLDSTART_TRACE_BPF_TRACE_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CS_PATH_MAX 256
#define CS_PHASES 4 /* spawn, loader, runtime-init, app-init */
/* In-kernel counters: one more phase slot (CS_PHASES) for what happens after
 * user space has seen ready and set cur_phase past the last phase. */
#define CS_COUNT_PHASES (CS_PHASES + 1)
#define CS_MAX_SYSCALL 512 /* x86-64 syscall numbers are below this */

enum cs_event_kind {
  CS_EV_SYSCALL = 1, /* a finished syscall: start/end, nr, ret, arg0/arg1 */
  CS_EV_OFFCPU = 2,  /* switched out at start, woken at wake_ns, back on CPU at end */
  CS_EV_FORK = 3,    /* aux = new tid, arg0 = new tgid, arg1 = 1 if a thread */
  CS_EV_EXEC = 4,    /* path = the executed file */
  CS_EV_EXIT = 5,    /* aux = exit code (task->exit_code) */
  CS_EV_FAULT = 6,   /* a major page fault from start to end, arg0 = address */
  CS_EV_MARK = 7,    /* aux = CS_MARK_ENTRY or CS_MARK_MAIN: a phase boundary */
};

/* A mark's arg0: the probed instruction's address (entry, main), or for
 * CS_MARK_LIBC_START the first argument of __libc_start_main (main). */
enum cs_mark {
  CS_MARK_ENTRY = 1,
  CS_MARK_MAIN = 2,
  CS_MARK_LIBC_START = 3,
  /* Go GC probes (trace/go_gc.h): not phase boundaries, every hit is recorded. */
  CS_MARK_GC_START = 4,
  CS_MARK_GC_STOP_WORLD = 5,
  CS_MARK_GC_START_WORLD = 6,
  CS_MARK_GC_MARK_TERMINATION = 7,
  CS_MARK_GC_LIMITER_FINISH = 8,
};

/* Flags of an off-CPU interval: what the thread was doing when it left the CPU. */
enum cs_offcpu_flag {
  CS_OFF_PREEMPTED = 1, /* still runnable: run-queue wait */
  CS_OFF_IOWAIT = 2,    /* task->in_iowait: blocked on block I/O */
  CS_OFF_IN_FAULT = 4,  /* inside handle_mm_fault */
  CS_OFF_IN_SYSCALL = 8,
  CS_OFF_SOCKET = 16,   /* the syscall in progress works on a socket fd */
  CS_OFF_TIMED = 32,    /* the syscall in progress has a timeout argument */
  CS_OFF_THROTTLED = 64, /* preempted because its cgroup ran out of CPU quota */
};

struct cs_event {
  __u32 kind;
  __u32 tid;
  __u32 pid; /* tgid */
  __u32 aux; /* syscall nr, mark, new tid, exit code */
  __u64 start_ns;
  __u64 end_ns;
  __s64 ret;     /* syscall return value */
  __u64 wake_ns; /* off-CPU: when it was woken (0 if preempted / unknown) */
  __u64 arg0;
  __u64 arg1;
  __u32 flags;   /* cs_offcpu_flag for CS_EV_OFFCPU */
  __u32 blocked_nr; /* off-CPU: syscall in progress (or -1) */
};

/* Per-thread state of the BPF tracer (task-local storage). User space reads
 * it once, at the end of the window, for the threads still off the CPU: an
 * off-CPU interval is written only when the thread is back on a CPU. */
struct cs_tstate {
  __u64 off_ts;
  __u64 wake_ts;
  __u64 sys_ts;
  __u64 args[4];
  __u64 fault_ts;
  __u64 fault_addr;
  __u64 maj_snap;
  __u64 min_snap;
  __s32 nr;
  __u32 sys_phase; /* cur_phase when the syscall entered (execve ends in the next one) */
  __s32 off_nr;    /* the syscall it blocked in when it left the CPU (-1: none) */
  __u32 execed;    /* summary detail: exec done, its execve's exit still to come */
  __u32 off_flags;
  __u32 sys_flags;
  __u32 in_fault;
  __u32 fault_phase; /* cur_phase when the fault began: where a minor one counts */
};

/* Syscalls that name a file and exec carry the path. */
struct cs_path_event {
  struct cs_event base;
  char path[CS_PATH_MAX];
};

#endif
