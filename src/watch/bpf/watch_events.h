/* The records the watch BPF program (watch.bpf.c) writes into its ring buffer
 * and watch_bpf.cc reads. Shared by the BPF program (C, vmlinux.h types) and
 * C++ (linux/types.h), so it uses only __u32/__u64 and fixed layouts. */
#ifndef COLDSTART_WATCH_BPF_WATCH_EVENTS_H
#define COLDSTART_WATCH_BPF_WATCH_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CSW_COMM 16
#define CSW_DATA 256   /* exec path, or the cgroup path of a mkdir */
#define CSW_ARGS 128   /* the start of the command line (NUL-separated) */

/* A start is keyed by the cgroup id of its cgroup, or, for a start found by
 * --match outside a fresh cgroup, by its root tgid with this bit set. */
#define CSW_KEY_TGID (1ULL << 63)

/* cpu_ns of a milestone the kernel reached without a task of the start
 * running (a handshake completed in softirq): no resource snapshot. */
#define CSW_NO_TASK (~0ULL)

enum csw_kind {
  CSW_START = 1,  /* the first exec of a start: data = path, args = argv, aux = 1 if provisional (--match) */
  CSW_EXEC = 2,   /* a later exec of the start's root process: data = path, args = argv */
  CSW_LISTEN = 3, /* first TCP or AF_UNIX stream socket of the start in LISTEN: aux = family,
                     aux2 = port (TCP), data = bound path (AF_UNIX; "@name" for an abstract one) */
  CSW_NOTIFY = 4, /* first READY=1 datagram sent on an AF_UNIX socket */
  CSW_ACCEPT = 5, /* first connection queued on a listening socket of the start: aux = family, aux2 = port */
  CSW_END = 6,    /* the start's last followed process exited: aux = exit code (wait status) */
  CSW_MKDIR = 7,  /* a cgroup was made in the unified hierarchy: key = its id, data = its path */
  CSW_RMDIR = 8,  /* ... and removed */
  CSW_ENTRY = 9,  /* the root's current executable reached its ELF entry point (uprobe): the loader is done */
  CSW_MAIN = 10,  /* ... and its main / main.main (uprobe) */
  CSW_MOUNT = 11, /* an overlay mount(2) by a task of a start or of a fresh cgroup (libc uprobes):
                     aux = lower layers, mount_ns = duration of the call */
};

/* aux bits of CSW_START. */
#define CSW_START_PROVISIONAL 1u /* a --match candidate */
#define CSW_START_NEW_MNTNS 2u   /* its mount namespace is not its parent's */
#define CSW_START_FROM_FORK 4u   /* its times count from t0_ns = the fork of its process (see on_exec) */
#define CSW_START_FROM_JOIN 8u   /* ... = that process's move into the start's cgroup, after its fork */

struct csw_event {
  __u32 kind;
  __u32 pid;    /* tgid of the task the record is about */
  __u64 key;    /* the start (or cgroup) it belongs to */
  __u64 ts_ns;  /* bpf_ktime_get_ns() = CLOCK_MONOTONIC */
  __u64 cpu_ns; /* CPU time of the start up to ts (see watch.bpf.c for what is counted) */
  __u64 major_faults;
  __u64 throttled_ns;
  __u32 aux;
  __u32 aux2;
  __u64 exe_ino;  /* START, EXEC: inode of the executable (bprm->file) */
  __u32 exe_dev;  /* ... and its superblock's device, kernel encoding (MAJOR << 20 | MINOR) */
  __u32 pad;
  __u64 mount_ns; /* MOUNT: duration of the mount(2) call */
  __u64 fork_ns;  /* START, EXEC: when the task's process was forked (task->start_time, CLOCK_MONOTONIC) */
  __u64 t0_ns;    /* START: what its times count from (fork, move into its cgroup, or ts_ns = exec) */
  char comm[CSW_COMM];
  char data[CSW_DATA];
  char args[CSW_ARGS];
};

#endif
