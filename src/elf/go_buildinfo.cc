// Decoding Go's .go.buildinfo, as runtime/debug and debug/buildinfo (Go 1.19)
// do.
//
// Layout of the 32-byte header, 16-byte aligned: 14 bytes of magic
// "\xff Go buildinf:", one byte pointer size (4 or 8), one byte of flags
// (bit 0: big-endian pointers, bit 1: strings inline).
//  * Go >= 1.18 (flags & 2): after the header come two strings, each a
//    uvarint length followed by its bytes: the Go version, then the module
//    info. Nothing needs relocating, so the blob reads the same in a PIE.
//  * Older Go: at offset 16 and 16+ptrsize are two pointers (virtual
//    addresses) to Go string headers {data pointer, length}; each is followed
//    through the PT_LOAD segments. In a PIE those pointers may be left for
//    start-up relocations to fill in; the blob then reads as absent.
// The module info is framed by two 16-byte sentinels; it is kept only if the
// byte 17 from its end is '\n', exactly as debug/buildinfo checks.
// Where to look: the .go.buildinfo section, else the first PT_LOAD that is
// writable and not executable (Go's own rule, for binaries without sections).
#include "elf/go_buildinfo.h"

#include "core/bytes.h"
#include "core/strings.h"

namespace coldstart::elf {
namespace {

constexpr std::string_view kMagic = "\xff Go buildinf:";
constexpr uint64_t kAlign = 16;
constexpr uint64_t kHeaderSize = 32;
constexpr uint64_t kMaxString = 1 << 24;  // no real version/modinfo comes near 16 MiB
constexpr uint64_t kSearchWindow = 64 * 1024;

// A uvarint-prefixed string at the front of `data`; advances `data`.
std::optional<std::string> decode_varint_string(std::span<const std::byte>& data) {
  uint64_t len = 0;
  unsigned shift = 0;
  size_t i = 0;
  for (;; ++i) {
    if (i >= data.size() || shift > 63) return std::nullopt;
    auto b = static_cast<uint8_t>(data[i]);
    len |= uint64_t{b & 0x7fu} << shift;
    shift += 7;
    if ((b & 0x80) == 0) break;
  }
  auto body = strict_subspan(data, i + 1, len);
  if (!body || len > kMaxString) return std::nullopt;
  data = data.subspan(i + 1 + len);
  return std::string(as_chars(*body));
}

// The string whose Go header {ptr, len} sits at `header_vaddr`.
std::optional<std::string> read_pointer_string(const VaddrReader& read, uint64_t header_vaddr, unsigned ptr_size,
                                               bool big_endian) {
  auto hdr = read(header_vaddr, 2 * ptr_size);
  if (!hdr) return std::nullopt;
  auto data = read_uint(*hdr, 0, ptr_size, big_endian);
  auto len = read_uint(*hdr, ptr_size, ptr_size, big_endian);
  if (!data || !len || *len > kMaxString) return std::nullopt;
  if (*len == 0) return std::string();
  auto body = read(*data, *len);
  if (!body) return std::nullopt;
  return std::string(as_chars(*body));
}

// Undoes strconv.Quote for the escapes it produces in build settings.
std::string go_unquote(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::string(s);
  std::string out;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 2 >= s.size()) {
      out.push_back(c);
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      default: out.push_back(e); break;  // \" \\ and anything else verbatim
    }
  }
  return out;
}

GoModule parse_module(const std::vector<std::string>& f) {
  GoModule m;
  if (f.size() > 1) m.path = f[1];
  if (f.size() > 2) m.version = f[2];
  if (f.size() > 3) m.sum = f[3];
  return m;
}

}  // namespace

std::optional<std::string> GoBuildInfo::setting(std::string_view key) const {
  for (const auto& [k, v] : settings)
    if (k == key) return v;
  return std::nullopt;
}

void parse_go_modinfo(std::string_view text, GoBuildInfo& info) {
  GoModule* last = nullptr;
  // Kept line by line as `go version -m` prints them: all but the final
  // newline, empty lines included (Go 1.19 writes one after each "=>" line).
  if (text.ends_with('\n')) text.remove_suffix(1);
  if (text.empty()) return;
  for (const std::string& line : split(text, '\n')) {
    info.modinfo_lines.push_back(line);
    if (line.empty()) continue;
    std::vector<std::string> f = split(line, '\t');
    const std::string& word = f[0];
    if (word == "path" && f.size() > 1) {
      info.path = f[1];
    } else if (word == "go" && f.size() > 1 && info.go_version.empty()) {
      info.go_version = f[1];
    } else if (word == "mod") {
      info.main = parse_module(f);
      last = &*info.main;
    } else if (word == "dep") {
      info.deps.push_back(parse_module(f));
      last = &info.deps.back();
    } else if (word == "=>" && last != nullptr) {
      GoModule r = parse_module(f);
      last->replaced_by_path = r.path;
      last->replaced_by_version = r.version;
    } else if (word == "build" && f.size() > 1) {
      // The key may be quoted when it holds '=' or spaces; the value when it holds spaces.
      std::string_view kv = std::string_view(line).substr(6);
      size_t eq = std::string_view::npos;
      if (!kv.empty() && kv[0] == '"') {
        size_t close = 1;
        while (close < kv.size() && !(kv[close] == '"' && kv[close - 1] != '\\')) ++close;
        eq = kv.find('=', close);
      } else {
        eq = kv.find('=');
      }
      if (eq == std::string_view::npos) continue;
      info.settings.emplace_back(go_unquote(kv.substr(0, eq)), go_unquote(kv.substr(eq + 1)));
    }
  }
}

std::optional<GoBuildInfo> parse_go_buildinfo(std::span<const std::byte> region, const VaddrReader& read) {
  // The first 16-byte-aligned occurrence of the magic with a whole header after it.
  std::string_view text = as_chars(region);
  size_t from = 0;
  size_t at = std::string_view::npos;
  while (from < text.size()) {
    size_t i = text.find(kMagic, from);
    if (i == std::string_view::npos || text.size() - i < kHeaderSize) return std::nullopt;
    if (i % kAlign == 0) {
      at = i;
      break;
    }
    from = (i + kAlign - 1) & ~(kAlign - 1);
  }
  if (at == std::string_view::npos) return std::nullopt;
  std::span<const std::byte> blob = region.subspan(at);

  GoBuildInfo info;
  info.pointer_size = static_cast<uint8_t>(blob[14]);
  auto flags = static_cast<uint8_t>(blob[15]);
  std::string version, modinfo;
  if (flags & 2) {
    info.format = "inline";
    std::span<const std::byte> rest = blob.subspan(kHeaderSize);
    auto v = decode_varint_string(rest);
    if (!v) return std::nullopt;
    version = std::move(*v);
    modinfo = decode_varint_string(rest).value_or("");
  } else {
    info.format = "pointer";
    unsigned ps = info.pointer_size;
    if (ps != 4 && ps != 8) return std::nullopt;
    bool big = flags != 0;
    auto vptr = read_uint(blob, 16, ps, big);
    auto mptr = read_uint(blob, 16 + ps, ps, big);
    if (!vptr || !mptr) return std::nullopt;
    version = read_pointer_string(read, *vptr, ps, big).value_or("");
    modinfo = read_pointer_string(read, *mptr, ps, big).value_or("");
  }
  if (version.empty()) return std::nullopt;
  info.go_version = version;
  if (modinfo.size() >= 33 && modinfo[modinfo.size() - 17] == '\n') {
    parse_go_modinfo(std::string_view(modinfo).substr(16, modinfo.size() - 32), info);
  }
  return info;
}

std::optional<GoBuildInfo> read_go_buildinfo(const ElfFile& file) {
  std::optional<uint64_t> start;
  if (const Section* s = file.section(".go.buildinfo")) start = s->addr;
  if (!start) {
    for (const auto& seg : file.segments())
      if (seg.type == PT_LOAD && (seg.flags & (PF_X | PF_W)) == PF_W) {
        start = seg.vaddr;
        break;
      }
  }
  if (!start) return std::nullopt;
  // Up to 64 KiB, as much as the segment holding `start` has in the file.
  std::span<const std::byte> region = file.bytes_at_vaddr_upto(*start, kSearchWindow).value_or(
      std::span<const std::byte>());
  if (region.empty()) return std::nullopt;
  VaddrReader reader = [&file](uint64_t vaddr, uint64_t size) { return file.bytes_at_vaddr(vaddr, size); };
  return parse_go_buildinfo(region, reader);
}

}  // namespace coldstart::elf
