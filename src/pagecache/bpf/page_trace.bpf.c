// SPDX-License-Identifier: GPL-2.0
/* The in-kernel half of prewarm record's page tracer (pagecache/page_trace.cc).
 *
 * What a start used of its files, including what is no longer mapped at the
 * ready instant (a child that exited, a region unmapped again, a file read
 * with read() and closed), from four filemap: tracepoints (tp_btf: attached
 * through BPF links, no tracefs mount needed; not kprobes or fentry: this
 * kernel has no kprobes and refuses fentry programs at load, EPERM as root):
 *  - filemap:mm_filemap_add_to_page_cache: every folio the start brought into
 *    the page cache, readahead included (so not itself "needed");
 *  - mm_filemap_fault: every page the tree faulted on a file mapping (the page
 *    it needed, whether the fault then found it cached or read it);
 *  - mm_filemap_map_pages: fault-around windows, which map the already cached
 *    pages next to a fault (user space keeps the ones this start added);
 *  - mm_filemap_get_pages: the pages each read() / sendfile() / splice
 *    asked for (filemap_read and filemap_splice_read), cached or not.
 * Filter: the current task's v2 cgroup is the launch's (`target_cgroup`, set
 * by user space while the launch is paused before exec), so the tree's
 * readahead counts and nobody else's does. Readahead runs in the faulting or
 * reading task's context, so its additions are attributed correctly.
 * Records go to a ring buffer without wake-ups; user space drains it after
 * the ready instant. A full buffer counts `dropped` (user space says so). */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "page_trace_events.h"

char LICENSE[] SEC("license") = "GPL";

__u64 target_cgroup = 0;
__u64 dropped = 0;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 8 << 20);
} events SEC(".maps");

static __always_inline int ours(void) { return target_cgroup != 0 && bpf_get_current_cgroup_id() == target_cgroup; }

static __always_inline void emit(struct inode *inode, __u64 first, __u64 count, __u32 kind) {
  if (!inode) return;
  struct page_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __sync_fetch_and_add(&dropped, 1);
    return;
  }
  e->inode = BPF_CORE_READ(inode, i_ino);
  e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
  e->first = first;
  e->count = count;
  e->kind = kind;
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

SEC("tp_btf/mm_filemap_add_to_page_cache")
int BPF_PROG(on_add, struct folio *folio) {
  if (!ours()) return 0;
  struct address_space *mapping = BPF_CORE_READ(folio, mapping);
  if (!mapping) return 0;
  /* folio_order(): 0 unless the folio is large (PG_head), else the low byte of _flags_1. */
  __u64 flags = BPF_CORE_READ(folio, flags.f);
  __u64 pages = 1;
  if (flags & (1UL << bpf_core_enum_value(enum pageflags, PG_head)))
    pages = 1UL << (BPF_CORE_READ(folio, _flags_1) & 0xff);
  emit(BPF_CORE_READ(mapping, host), BPF_CORE_READ(folio, index), pages, PAGE_ADDED);
  return 0;
}

SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(on_fault, struct address_space *mapping, unsigned long index) {
  if (!ours() || !mapping) return 0;
  emit(BPF_CORE_READ(mapping, host), index, 1, PAGE_FAULTED);
  return 0;
}

/* last is inclusive for both: filemap_map_pages passes end_pgoff,
 * filemap_get_pages last_index - 1. */
SEC("tp_btf/mm_filemap_map_pages")
int BPF_PROG(on_fault_around, struct address_space *mapping, unsigned long first, unsigned long last) {
  if (!ours() || !mapping || last < first) return 0;
  emit(BPF_CORE_READ(mapping, host), first, last - first + 1, PAGE_AROUND);
  return 0;
}

SEC("tp_btf/mm_filemap_get_pages")
int BPF_PROG(on_read, struct address_space *mapping, unsigned long first, unsigned long last) {
  if (!ours() || !mapping || last < first) return 0;
  emit(BPF_CORE_READ(mapping, host), first, last - first + 1, PAGES_READ);
  return 0;
}
