// The page tracer (see page_trace.h; the kernel half is bpf/page_trace.bpf.c).
//
// Kernel facts relied on:
//  - tp_btf and fentry programs attach through BPF_RAW_TRACEPOINT_OPEN /
//    BPF_LINK_CREATE: no tracefs mount needed (it is not mounted here);
//  - the tracepoint's and the inode's s_dev is the kernel's dev_t,
//    MAJOR << 20 | MINOR, not st_dev's encoding; converted here;
//  - on overlayfs the page cache belongs to the upper/lower file's inode, not
//    the overlay's: such files are not matched by (st_dev, st_ino) and keep
//    only their page-table record (traced_by_path counts them as unnamed).
// A read past EOF names pages past the file's end: record.cc clips to the
// file's size. The ring buffer is drained once, after stop(): records are submitted with
// BPF_RB_NO_WAKEUP, so the traced start never pays for waking us.
#include "pagecache/page_trace.h"

#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>

#include "core/log_capture.h"
#include "page_trace.skel.h"
#include "page_trace_events.h"

namespace coldstart::pagecache {
namespace {

int libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
  if (level != LIBBPF_DEBUG) keep_last_log_line(format, args);
  return 0;
}

std::string why(const char* step, int err) { return bpf_failure(step, err); }

PageEvent::Kind kind_of(uint32_t k) {
  switch (k) {
    case PAGE_FAULTED: return PageEvent::Kind::kFaulted;
    case PAGE_AROUND: return PageEvent::Kind::kFaultAround;
    case PAGES_READ: return PageEvent::Kind::kRead;
    default: return PageEvent::Kind::kAdded;
  }
}

}  // namespace

std::map<FileKey, TracedFile> fold_page_events(std::span<const PageEvent> events) {
  struct Raw {
    std::vector<PageRange> added, needed, around;
  };
  std::map<FileKey, Raw> raw;
  for (const PageEvent& e : events) {
    Raw& r = raw[{e.device, e.inode}];
    switch (e.kind) {
      case PageEvent::Kind::kAdded: r.added.push_back({e.first, e.count}); break;
      case PageEvent::Kind::kFaulted:
      case PageEvent::Kind::kRead: r.needed.push_back({e.first, e.count}); break;
      case PageEvent::Kind::kFaultAround: r.around.push_back({e.first, e.count}); break;
    }
  }
  std::map<FileKey, TracedFile> out;
  for (auto& [key, r] : raw) {
    TracedFile f;
    f.added = normalize(std::move(r.added));
    // Fault-around of a page added later in the start is counted too: the
    // order is not kept, and the over-record is at most one 64 KiB window.
    f.used = unite(normalize(std::move(r.needed)), intersect(normalize(std::move(r.around)), f.added));
    if (f.added.empty() && f.used.empty()) continue;
    out.emplace(key, std::move(f));
  }
  return out;
}

std::map<std::string, TracedFile> traced_by_path(const std::map<FileKey, TracedFile>& traced,
                                                 std::span<const std::string> paths, uint64_t& unnamed_pages) {
  std::map<FileKey, std::string> names;
  for (const std::string& p : paths) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      names.try_emplace({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)}, p);
  }
  std::map<std::string, TracedFile> out;
  unnamed_pages = 0;
  for (const auto& [key, f] : traced) {
    auto it = names.find(key);
    if (it == names.end()) {
      unnamed_pages += total_pages(f.used);
      continue;
    }
    out.emplace(it->second, f);
  }
  return out;
}

struct PageTrace::Impl {
  page_trace_bpf* skel = nullptr;
  ring_buffer* rb = nullptr;
  std::vector<PageEvent> events;
  ~Impl() {
    if (rb) ring_buffer__free(rb);
    if (skel) page_trace_bpf__destroy(skel);
  }
  static int on_record(void* ctx, void* data, size_t size) {
    if (size < sizeof(page_event)) return 0;
    page_event e{};
    std::memcpy(&e, data, sizeof e);
    auto* self = static_cast<Impl*>(ctx);
    uint64_t dev = makedev(e.dev >> 20, e.dev & 0xfffff);
    self->events.push_back({kind_of(e.kind), dev, e.inode, e.first, e.count});
    return 0;
  }
};

PageTrace::PageTrace(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PageTrace::~PageTrace() = default;

Result<std::unique_ptr<PageTrace>> PageTrace::start(uint64_t cgroup_id) {
  if (cgroup_id == 0) return unexpected("the launch has no v2 cgroup to filter on");
  libbpf_set_print(libbpf_print);
  auto impl = std::make_unique<Impl>();
  impl->skel = page_trace_bpf__open();
  if (impl->skel == nullptr) return unexpected(why("open", errno));
  if (int err = page_trace_bpf__load(impl->skel); err != 0) return unexpected(why("load", -err));
  impl->skel->bss->target_cgroup = cgroup_id;
  if (int err = page_trace_bpf__attach(impl->skel); err != 0) return unexpected(why("attach", -err));
  impl->rb = ring_buffer__new(bpf_map__fd(impl->skel->maps.events), &Impl::on_record, impl.get(), nullptr);
  if (impl->rb == nullptr) return unexpected(why("ring buffer", errno));
  return std::unique_ptr<PageTrace>(new PageTrace(std::move(impl)));
}

void PageTrace::stop() { impl_->skel->bss->target_cgroup = 0; }

std::map<FileKey, TracedFile> PageTrace::collect(uint64_t& dropped) {
  stop();
  ring_buffer__consume(impl_->rb);
  dropped = impl_->skel->bss->dropped;
  return fold_page_events(impl_->events);
}

}  // namespace coldstart::pagecache
