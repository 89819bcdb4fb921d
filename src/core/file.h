// Files: open, map read-only, read small text files. Every function either
// returns an owner or throws UserError naming the call, the path and errno.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/unique_fd.h"

namespace coldstart {

/// Mapping owns a read-only private mmap of a whole file (empty files map to an
/// empty span). Callers read it only through bounds-checked helpers (bytes.h).
class Mapping {
 public:
  Mapping() = default;
  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&& other) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  size_t size() const { return size_; }

  /// Maps the regular file at `path`. Throws UserError for a missing file, a
  /// directory, a device/FIFO/socket, or an unreadable file.
  static Mapping map_file(const std::string& path);

 private:
  Mapping(const std::byte* data, size_t size) : data_(data), size_(size) {}
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

/// open(2) with O_CLOEXEC added; throws UserError on failure.
UniqueFd open_or_throw(const std::string& path, int flags, mode_t mode = 0);

/// Opens with O_CLOEXEC; returns the errno text on failure.
Result<UniqueFd> try_open(const std::string& path, int flags, mode_t mode = 0);

/// Creates a pipe with O_CLOEXEC (plus `extra_flags`, e.g. O_NONBLOCK).
Pipe make_pipe(int extra_flags = 0);

/// Reads a whole (small) file; nullopt if it cannot be opened or read.
std::optional<std::string> read_text_file(const std::string& path);

/// Checks, before any work, that write_file_atomic(path) can succeed later:
/// the directory exists and is writable and `path` is not a directory. A long
/// measurement must not be lost to a typo in an output path. Throws UserError
/// naming `option`.
void check_output_path(const std::string& path, std::string_view option);

/// Writes `data` to `path` atomically (temp file in the same directory + rename),
/// so a failure never leaves a partial file. Throws UserError.
void write_file_atomic(const std::string& path, std::string_view data);

}  // namespace coldstart
