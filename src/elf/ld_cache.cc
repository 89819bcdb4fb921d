// Parsing ld.so.cache (glibc elf/dl-cache.h, format "glibc-ld.so.cache" "1.1").
//
//   struct cache_file_new {            // 48 bytes
//     char magic[17]; char version[3]; // "glibc-ld.so.cache" "1.1"
//     uint32_t nlibs, len_strings;
//     uint8_t flags, pad[3];
//     uint32_t extension_offset, unused[3];
//     struct { int32_t flags; uint32_t key, value, osversion; uint64_t hwcap; } libs[nlibs];  // 24 bytes each
//   };
// key/value are offsets of NUL-terminated strings (soname, path) counted from
// the start of cache_file_new. Files written by old ldconfigs start with the
// old format ("ld.so-1.7.0", nlibs, 12-byte entries); the new header follows,
// 8-byte aligned. Only entries whose flags are FLAG_ELF_LIBC6|FLAG_X8664_LIB64
// (0x0303) are for this ABI (_dl_cache_check_flags). Entries whose hwcap
// marks a glibc-hwcaps subdirectory are skipped: the plain entry is what ld.so
// uses when no hwcaps subdirectory applies. The first plain entry of a name
// wins, like ld.so's binary search that backs up to the first match.
#include "elf/ld_cache.h"

#include <fmt/format.h>

#include "core/bytes.h"
#include "core/file.h"

namespace coldstart::elf {
namespace {

constexpr std::string_view kOldMagic = "ld.so-1.7.0";
constexpr std::string_view kNewMagic = "glibc-ld.so.cache1.1";
constexpr uint64_t kNewHeader = 48;
constexpr uint64_t kNewEntry = 24;
constexpr uint64_t kOldEntry = 12;
constexpr int32_t kFlagsX8664Libc6 = 0x0303;
constexpr uint64_t kHwcapExtension = uint64_t{1} << 62;

}  // namespace

LdCache LdCache::parse(std::span<const std::byte> bytes) {
  LdCache cache;
  uint64_t start = 0;
  if (bytes.size() >= kOldMagic.size() && as_chars(bytes.first(kOldMagic.size())) == kOldMagic) {
    auto nlibs = read_at<uint32_t>(bytes, 12);
    if (!nlibs) {
      cache.error_ = "truncated old-format header";
      return cache;
    }
    start = (16 + uint64_t{*nlibs} * kOldEntry + 7) & ~uint64_t{7};
  }
  auto header = strict_subspan(bytes, start, kNewHeader);
  if (!header || as_chars(header->first(kNewMagic.size())) != kNewMagic) {
    cache.error_ = "no glibc-ld.so.cache1.1 header";
    return cache;
  }
  std::span<const std::byte> table = bytes.subspan(start);
  uint32_t nlibs = *read_at<uint32_t>(table, 20);
  auto entries_size = checked_mul(nlibs, kNewEntry);
  if (!entries_size || !strict_subspan(table, kNewHeader, *entries_size)) {
    cache.error_ = fmt::format("{} entries do not fit in {} bytes", nlibs, bytes.size());
    return cache;
  }
  for (uint64_t i = 0; i < nlibs; ++i) {
    uint64_t at = kNewHeader + i * kNewEntry;
    int32_t flags = *read_at<int32_t>(table, at);
    uint32_t key = *read_at<uint32_t>(table, at + 4);
    uint32_t value = *read_at<uint32_t>(table, at + 8);
    uint64_t hwcap = *read_at<uint64_t>(table, at + 16);
    if (flags != kFlagsX8664Libc6 || (hwcap & kHwcapExtension) != 0) continue;
    auto name = read_cstring(table, key);
    auto path = read_cstring(table, value);
    if (!name || !path || name->empty() || path->empty()) continue;
    cache.entries_.try_emplace(std::string(*name), std::string(*path));
  }
  return cache;
}

LdCache LdCache::load(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return LdCache();
  return parse(std::as_bytes(std::span(text->data(), text->size())));
}

std::optional<std::string> LdCache::lookup(std::string_view soname) const {
  auto it = entries_.find(std::string(soname));
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

}  // namespace coldstart::elf
