/* Records of the page tracer (page_trace.bpf.c -> page_trace.cc), shared by
 * the BPF program and user space. Plain C, fixed-size fields. */
#ifndef COLDSTART_PAGE_TRACE_EVENTS_H
#define COLDSTART_PAGE_TRACE_EVENTS_H

#ifdef __cplusplus
#include <cstdint>
typedef uint64_t pt_u64;
typedef uint32_t pt_u32;
#else
typedef __u64 pt_u64;
typedef __u32 pt_u32;
#endif

enum page_event_kind {
  PAGE_ADDED = 1,   /* filemap:mm_filemap_add_to_page_cache: pages [first, first+count) entered the cache */
  PAGE_FAULTED = 2, /* filemap:mm_filemap_fault: the tree faulted page `first` of a file mapping */
  PAGE_AROUND = 3,  /* filemap:mm_filemap_map_pages: fault-around mapped the cached pages of the range */
  PAGES_READ = 4,   /* filemap:mm_filemap_get_pages: read() / splice asked for the range */
};

struct page_event {
  pt_u64 inode;
  pt_u64 first; /* a page index */
  pt_u64 count; /* pages */
  pt_u32 dev;   /* the super block's kernel dev_t (MAJOR << 20 | MINOR) */
  pt_u32 kind;
};

#endif
