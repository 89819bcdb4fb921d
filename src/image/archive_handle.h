// libarchive handles owned by unique_ptr, and libarchive's error text, for
// the image layer's readers (source.cc: image files; unpack.cc: layers).
#pragma once

#include <archive.h>

#include <memory>
#include <string>

namespace coldstart::image {

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteFree>;

/// libarchive's error text; it may be null (e.g. an empty input).
inline std::string archive_error(archive* a) {
  const char* e = archive_error_string(a);
  return e != nullptr ? e : "unknown error";
}

}  // namespace coldstart::image
