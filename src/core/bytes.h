// Bounds-checked reads of untrusted bytes (ELF files, buildinfo, datagrams).
// Values are copied out with memcpy, never read through a cast pointer, so
// misaligned or truncated input is an error value, not undefined behaviour.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace coldstart {

/// a + b, or nullopt on overflow.
inline std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

/// a * b, or nullopt on overflow.
inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

/// The sub-span [offset, offset+size) of `s`, or nullopt if it is not inside.
inline std::optional<std::span<const std::byte>> strict_subspan(std::span<const std::byte> s,
                                                                uint64_t offset, uint64_t size) {
  auto end = checked_add(offset, size);
  if (!end || *end > s.size()) return std::nullopt;
  return s.subspan(static_cast<size_t>(offset), static_cast<size_t>(size));
}

/// Reads a trivially copyable T at `offset` in host byte order.
template <typename T>
std::optional<T> read_at(std::span<const std::byte> s, uint64_t offset) {
  static_assert(std::is_trivially_copyable_v<T>);
  auto sub = strict_subspan(s, offset, sizeof(T));
  if (!sub) return std::nullopt;
  T v;
  std::memcpy(&v, sub->data(), sizeof(T));
  return v;
}

/// Reads an unsigned integer of `width` bytes (1, 2, 4, 8) with the given byte order.
inline std::optional<uint64_t> read_uint(std::span<const std::byte> s, uint64_t offset,
                                         unsigned width, bool big_endian) {
  auto sub = strict_subspan(s, offset, width);
  if (!sub || width == 0 || width > 8) return std::nullopt;
  uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) {
    unsigned idx = big_endian ? i : width - 1 - i;
    v = (v << 8) | static_cast<uint8_t>((*sub)[idx]);
  }
  return v;
}

/// A NUL-terminated string starting at `offset`, bounded by the span's end.
inline std::optional<std::string_view> read_cstring(std::span<const std::byte> s, uint64_t offset) {
  if (offset >= s.size()) return std::nullopt;
  const char* begin = reinterpret_cast<const char*>(s.data()) + offset;
  size_t max = s.size() - static_cast<size_t>(offset);
  const void* nul = std::memchr(begin, 0, max);
  if (nul == nullptr) return std::nullopt;
  return std::string_view(begin, static_cast<size_t>(static_cast<const char*>(nul) - begin));
}

inline std::string_view as_chars(std::span<const std::byte> s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

}  // namespace coldstart
