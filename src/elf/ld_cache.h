// /etc/ld.so.cache, the index ldconfig writes and ld.so consults after
// LD_LIBRARY_PATH and DT_RUNPATH.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace coldstart::elf {

/// LdCache holds the entries of an ld.so.cache for this host's ABI (x86-64
/// libc6: flags 0x0303), name -> path, as ld.so would pick them. Build it
/// once per run with load(); lookups are a hash probe.
class LdCache {
 public:
  /// Parses the bytes of a cache file ("glibc-ld.so.cache1.1", possibly after
  /// an old "ld.so-1.7.0" part). A malformed cache gives an empty one and
  /// `error()` says why: ld.so also just ignores a bad cache.
  static LdCache parse(std::span<const std::byte> bytes);
  /// Reads and parses `path`; a missing file gives an empty cache.
  static LdCache load(const std::string& path = "/etc/ld.so.cache");

  std::optional<std::string> lookup(std::string_view soname) const;
  size_t size() const { return entries_.size(); }
  const std::string& error() const { return error_; }

 private:
  std::unordered_map<std::string, std::string> entries_;
  std::string error_;
};

}  // namespace coldstart::elf
