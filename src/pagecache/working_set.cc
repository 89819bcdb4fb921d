// Recording what a start used, from the page tables of the running tree.
//
// Why page tables and not residency: the root disk here reads ahead 8 MiB, so
// after one start ~100% of each binary and library is resident although the
// start faulted 35-50% of them (design.md). Residency after a start therefore
// over-records. /proc/PID/pagemap has one 64-bit entry per virtual page; bit 63
// "present" or bit 62 "swapped" means the process faulted that page in (or the
// kernel's fault-around mapped it: on a fault the kernel also maps up to
// fault_around_bytes = 64 KiB of neighbouring pages that are already cached,
// so the record is the faulted pages widened to at most 16-page windows).
// Reading the present/swapped bits needs only PTRACE_MODE_READ on the target;
// the PFN field (which we ignore) is what needs CAP_SYS_ADMIN.
// For a file mapping, virtual page v of a VMA maps file page
// (offset + (v - start)) / page_size. Pages past the end of the file (the .bss
// tail of a private mapping) are not file pages and are clipped by the caller.
// Files only read with read(2) appear in /proc/PID/fd, not in maps; for those
// prewarm record uses residency after an evicted start instead.
#include "pagecache/working_set.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>

#include "core/error.h"
#include "core/file.h"
#include "core/strings.h"

namespace coldstart::pagecache {
namespace {

constexpr uint64_t kPresent = uint64_t{1} << 63;
constexpr uint64_t kSwapped = uint64_t{1} << 62;

bool parse_hex(std::string_view s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_dec(std::string_view s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 10);
  return ec == std::errc() && p == s.data() + s.size();
}

/// Splits off the next space-separated field of a maps line.
std::string_view next_field(std::string_view& line) {
  size_t b = line.find_first_not_of(' ');
  if (b == std::string_view::npos) return line = {}, std::string_view{};
  line.remove_prefix(b);
  size_t e = line.find(' ');
  std::string_view f = line.substr(0, e);
  line.remove_prefix(e == std::string_view::npos ? line.size() : e);
  return f;
}

/// Appends the touched file pages of one mapping, read from an open pagemap.
Result<void> touched_pages(int pagemap_fd, const FileMapping& m, std::vector<PageRange>& out) {
  const uint64_t page = page_size();
  const uint64_t pages = (m.end - m.start) / page;
  std::vector<uint64_t> entries(std::min<uint64_t>(pages, 4096));
  for (uint64_t done = 0; done < pages;) {
    uint64_t want = std::min<uint64_t>(entries.size(), pages - done);
    off_t at = static_cast<off_t>((m.start / page + done) * sizeof(uint64_t));
    ssize_t n = ::pread(pagemap_fd, entries.data(), want * sizeof(uint64_t), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return unexpected(sys_message("read", "pagemap", errno));
    if (n == 0) break;
    uint64_t got = static_cast<uint64_t>(n) / sizeof(uint64_t);
    for (uint64_t i = 0; i < got; ++i) {
      if ((entries[i] & (kPresent | kSwapped)) == 0) continue;
      uint64_t file_page = m.offset / page + done + i;
      if (!out.empty() && out.back().end() == file_page)
        ++out.back().count;
      else
        out.push_back({file_page, 1});
    }
    done += got;
  }
  return {};
}

std::set<std::string> open_regular_files(pid_t pid) {
  std::set<std::string> out;
  std::error_code ec;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code lec;
    auto target = std::filesystem::read_symlink(e.path(), lec);
    if (lec || !target.is_absolute()) continue;  // pipe:[..], socket:[..], anon_inode:...
    struct stat st {};
    if (::stat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode) && !target.string().ends_with(" (deleted)"))
      out.insert(target.string());
  }
  return out;
}

}  // namespace

std::vector<FileMapping> parse_maps(std::string_view text) {
  std::vector<FileMapping> out;
  for (const std::string& raw : split(text, '\n')) {
    std::string_view line = raw;
    std::string_view range = next_field(line), perms = next_field(line), offset = next_field(line);
    std::string_view dev = next_field(line), inode = next_field(line);
    (void)perms, (void)dev;
    size_t b = line.find_first_not_of(' ');
    std::string_view path = b == std::string_view::npos ? std::string_view{} : line.substr(b);
    FileMapping m;
    size_t dash = range.find('-');
    if (dash == std::string_view::npos || !parse_hex(range.substr(0, dash), m.start) ||
        !parse_hex(range.substr(dash + 1), m.end) || !parse_hex(offset, m.offset) ||
        !parse_dec(inode, m.inode))
      continue;
    if (m.inode == 0 || !path.starts_with('/') || path.ends_with(" (deleted)") || m.end <= m.start) continue;
    m.path = std::string(path);
    out.push_back(std::move(m));
  }
  return out;
}

Result<TouchedFiles> touched_files(std::span<const pid_t> pids) {
  TouchedFiles out;
  size_t readable = 0;
  std::string last_error;
  for (pid_t pid : pids) {
    std::string base = "/proc/" + std::to_string(pid);
    auto maps = read_text_file(base + "/maps");
    auto pagemap = try_open(base + "/pagemap", O_RDONLY);
    if (!maps || !pagemap) {
      if (!pagemap) last_error = pagemap.error();
      continue;  // gone, or not ours to read
    }
    ++readable;
    for (const FileMapping& m : parse_maps(*maps)) {
      auto& ranges = out.mapped[m.path];
      if (auto ok = touched_pages(pagemap->get(), m, ranges); !ok) return unexpected(ok.error());
    }
    for (const std::string& f : open_regular_files(pid)) out.open_files.insert(f);
  }
  if (readable == 0 && !pids.empty())
    return unexpected("no process of the tree could be read: " + last_error);
  for (auto& [path, ranges] : out.mapped) ranges = normalize(std::move(ranges));
  return out;
}

std::set<std::string> files_in_use(std::span<const pid_t> pids) {
  std::set<std::string> out;
  for (pid_t pid : pids) {
    std::string base = "/proc/" + std::to_string(pid);
    if (auto maps = read_text_file(base + "/maps")) {
      for (FileMapping& m : parse_maps(*maps)) out.insert(std::move(m.path));
    }
    for (const std::string& f : open_regular_files(pid)) out.insert(f);
  }
  return out;
}

}  // namespace coldstart::pagecache
