// Reading image files. A directory is an OCI layout ("oci-layout" beside
// index.json and blobs/). An archive is any tar libarchive reads (and any
// compression of it): entries are matched by their normalised path; a file
// asked for that the archive lacks is a UserError naming it ("missing blob").
#include "image/source.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <memory>

#include "core/error.h"
#include "core/file.h"
#include "image/archive_handle.h"
#include "image/digest.h"

namespace coldstart::image {
namespace {

ArchiveReader open_archive(const std::string& path) {
  ArchiveReader a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw UserError(path + ": not a readable archive: " + archive_error(a.get()));
  }
  return a;
}

// Calls `fn(name, entry)` for each regular file until it returns true.
void each_entry(archive* a, const std::string& path, const std::function<bool(const std::string&, archive_entry*)>& fn) {
  archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) return;
    if (r < ARCHIVE_WARN) throw UserError(path + ": broken archive: " + archive_error(a));
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    const char* raw = archive_entry_pathname(e);
    std::string name = normalize_entry_name(raw != nullptr ? raw : "");
    if (!name.empty() && fn(name, e)) return;
  }
}

}  // namespace

std::string normalize_entry_name(std::string name) {
  while (name.starts_with("./")) name.erase(0, 2);
  while (name.starts_with("/")) name.erase(0, 1);
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    std::string_view part = std::string_view(name).substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part == "..") return {};
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return name;
}

std::string blob_path(const std::string& digest) { return "blobs/sha256/" + digest_hex(digest); }

ImageSource ImageSource::open(const std::string& path) {
  ImageSource s;
  s.path_ = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_sys("open image", path);
  if (S_ISDIR(st.st_mode)) {
    if (::access((path + "/oci-layout").c_str(), R_OK) != 0 || ::access((path + "/index.json").c_str(), R_OK) != 0) {
      throw UserError(path + ": not an OCI image layout (no oci-layout and index.json)");
    }
    s.kind_ = Kind::kOciLayout;
    return s;
  }
  s.archive_ = true;
  ArchiveReader a = open_archive(path);
  each_entry(a.get(), path, [&](const std::string& name, archive_entry* e) {
    s.entries_[name] = static_cast<uint64_t>(archive_entry_size(e));
    return false;
  });
  if (s.entries_.count("index.json") && s.entries_.count("oci-layout")) s.kind_ = Kind::kOciArchive;
  else if (s.entries_.count("manifest.json")) s.kind_ = Kind::kDockerArchive;
  else if (s.entries_.count("index.json")) s.kind_ = Kind::kOciArchive;
  else throw UserError(path + ": not an image archive (no index.json or manifest.json)");
  return s;
}

bool ImageSource::has(const std::string& name) const {
  if (archive_) return entries_.count(name) != 0;
  struct stat st {};
  return !normalize_entry_name(name).empty() && ::stat((path_ + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string ImageSource::read(const std::string& name, uint64_t max) const {
  if (!has(name)) throw UserError(path_ + ": missing " + name);
  if (!archive_) {
    Mapping m = Mapping::map_file(path_ + "/" + name);
    if (m.size() > max) throw UserError(path_ + ": " + name + " is too big for a JSON document");
    return std::string(reinterpret_cast<const char*>(m.bytes().data()), m.size());
  }
  if (entries_.at(name) > max) throw UserError(path_ + ": " + name + " is too big for a JSON document");
  std::string out;
  ArchiveReader a = open_archive(path_);
  bool found = false;
  each_entry(a.get(), path_, [&](const std::string& n, archive_entry*) {
    if (n != name) return false;
    found = true;
    char buf[65536];
    for (;;) {
      la_ssize_t got = archive_read_data(a.get(), buf, sizeof buf);
      if (got < 0) throw UserError(path_ + ": broken archive reading " + name + ": " + archive_error(a.get()));
      if (got == 0) break;
      out.append(buf, static_cast<size_t>(got));
      if (out.size() > max) throw UserError(path_ + ": " + name + " is too big for a JSON document");
    }
    return true;
  });
  if (!found) throw UserError(path_ + ": missing " + name);
  return out;
}

std::string ImageSource::copy_to(const std::string& name, int fd) const {
  if (!has(name)) throw UserError(path_ + ": missing " + name);
  Sha256 hash;
  auto put = [&](const char* data, size_t n) {
    hash.update(data, n);
    while (n > 0) {
      ssize_t w = ::write(fd, data, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw_sys("write", "layer cache");
      data += w;
      n -= static_cast<size_t>(w);
    }
  };
  char buf[1 << 16];
  if (!archive_) {
    UniqueFd in = open_or_throw(path_ + "/" + name, O_RDONLY);
    for (;;) {
      ssize_t got = ::read(in.get(), buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw_sys("read", path_ + "/" + name);
      if (got == 0) break;
      put(buf, static_cast<size_t>(got));
    }
    return hash.digest();
  }
  ArchiveReader a = open_archive(path_);
  bool found = false;
  each_entry(a.get(), path_, [&](const std::string& n, archive_entry*) {
    if (n != name) return false;
    found = true;
    for (;;) {
      la_ssize_t got = archive_read_data(a.get(), buf, sizeof buf);
      if (got < 0) throw UserError(path_ + ": broken archive reading " + name + ": " + archive_error(a.get()));
      if (got == 0) break;
      put(buf, static_cast<size_t>(got));
    }
    return true;
  });
  if (!found) throw UserError(path_ + ": missing " + name);
  return hash.digest();
}

}  // namespace coldstart::image
