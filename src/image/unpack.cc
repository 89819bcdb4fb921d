// Unpacking layers into the content-addressed cache.
//
// Algorithm, per layer not yet cached:
//  1. Copy the blob out of the source into <cache>/layers/sha256/.tmp-<hex>-<pid>.blob,
//     hashing it on the way; for docker-archive layers (named by diff_id) hash
//     the decompressed stream instead (libarchive's "raw" format). A mismatch
//     is a UserError and both temporaries go.
//  2. Unpack the tar with libarchive's disk writer into .tmp-<hex>-<pid>/ with
//     ownership, modes, times, ACLs and xattrs kept and the SECURE_* options
//     on (no "..", no absolute paths, no writing through a symlink). We chdir
//     into the directory for that (coldstart is single-threaded) and back.
//  3. OCI whiteouts become what overlayfs understands: ".wh.NAME" a 0/0
//     character device NAME, ".wh..wh..opq" the xattr trusted.overlay.opaque=y
//     on its directory (both need root: CAP_MKNOD, CAP_SYS_ADMIN).
//  4. rename() the directory to <hex> (atomic; a concurrent unpacker that won
//     the race keeps its copy), then write <hex>.json with the counts.
// A layer is cached iff both <hex>/ and <hex>.json exist.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file.h"
#include "core/strings.h"
#include "image/archive_handle.h"
#include "image/digest.h"
#include "image/image.h"
#include "image/tree.h"

namespace coldstart::image {
namespace {

void mkdirs(const std::string& path, mode_t mode) {
  if (path.empty()) return;
  size_t pos = 0;
  for (;;) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) throw_sys("mkdir", part);
    if (pos == std::string::npos) return;
  }
}

// Removes temporaries on every path out of the unpack.
class TempPaths {
 public:
  ~TempPaths() {
    for (const auto& p : paths_) remove_tree(p);
  }
  void add(std::string p) { paths_.push_back(std::move(p)); }
  void keep() { paths_.clear(); }

 private:
  std::vector<std::string> paths_;
};

// Working directory switch for the disk writer's relative paths.
class Chdir {
 public:
  explicit Chdir(const std::string& dir) : old_(open_or_throw(".", O_RDONLY | O_DIRECTORY)) {
    if (::chdir(dir.c_str()) != 0) throw_sys("chdir", dir);
  }
  ~Chdir() { (void)::fchdir(old_.get()); }
  Chdir(const Chdir&) = delete;
  Chdir& operator=(const Chdir&) = delete;

 private:
  UniqueFd old_;
};

std::string uncompressed_digest(const std::string& file, const std::string& what) {
  ArchiveReader a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw UserError(what + ": cannot read: " + archive_error(a.get()));
  }
  archive_entry* e = nullptr;
  if (archive_read_next_header(a.get(), &e) != ARCHIVE_OK) throw UserError(what + ": empty or unreadable");
  Sha256 h;
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
    if (n < 0) throw UserError(what + ": broken compression: " + archive_error(a.get()));
    if (n == 0) break;
    h.update(buf, static_cast<size_t>(n));
  }
  return h.digest();
}

std::string parent_of(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash);
}

// A whiteout or opaque marker is applied below `dir` (relative to the
// layer's root): no component of it may be a symlink an earlier entry made,
// or "a -> /" followed by "a/.wh.etc" would delete the host's /etc.
void refuse_symlinks(const std::string& dir, const std::string& what) {
  std::string cur;
  for (const auto& part : split(dir, '/')) {
    if (part.empty()) continue;
    cur += (cur.empty() ? "" : "/") + part;
    struct stat st {};
    if (::lstat(cur.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      throw UserError(what + ": whiteout below a non-directory: " + cur);
    }
  }
}

void make_whiteout(const std::string& target, const std::string& what) {
  std::string parent = parent_of(target);
  refuse_symlinks(parent, what);
  mkdirs(parent, 0755);
  struct stat st {};
  if (::lstat(target.c_str(), &st) == 0) remove_tree(target);
  if (::mknod(target.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0) throw_sys("mknod whiteout", what + ": " + target);
}

void make_opaque(const std::string& dir, const std::string& what) {
  refuse_symlinks(dir, what);
  if (!dir.empty()) mkdirs(dir, 0755);
  const char* d = dir.empty() ? "." : dir.c_str();
  if (::setxattr(d, "trusted.overlay.opaque", "y", 1, 0) != 0) throw_sys("setxattr trusted.overlay.opaque", what + ": " + dir);
}

// Step 2 and 3 (runs with the working directory in the layer's directory).
LayerStats extract(const std::string& blob_file, const std::string& what) {
  ArchiveReader in(archive_read_new());
  archive_read_support_filter_all(in.get());
  archive_read_support_format_tar(in.get());
  archive_read_support_format_gnutar(in.get());
  if (archive_read_open_filename(in.get(), blob_file.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw UserError(what + ": not a tar: " + archive_error(in.get()));
  }
  ArchiveWriter out(archive_write_disk_new());
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                                ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
                                                ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK);
  archive_write_disk_set_standard_lookup(out.get());
  LayerStats stats;
  archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) throw UserError(what + ": broken tar: " + archive_error(in.get()));
    const char* raw_name = archive_entry_pathname(e);
    std::string raw = raw_name != nullptr ? raw_name : "";
    while (!raw.empty() && raw.back() == '/') raw.pop_back();
    std::string name = normalize_entry_name(raw);
    if (name.empty()) {
      if (raw.empty() || raw == "." || raw == "/") continue;  // the layer's root
      throw UserError(what + ": unsafe path in layer: " + raw);
    }
    if (name == ".") continue;
    std::string base = name.substr(name.rfind('/') + 1);
    if (base == ".wh..wh..opq") {
      make_opaque(parent_of(name), what);
      ++stats.opaque_dirs;
      continue;
    }
    if (base.starts_with(".wh.")) {
      std::string parent = parent_of(name);
      make_whiteout((parent.empty() ? "" : parent + "/") + base.substr(4), what);
      ++stats.whiteouts;
      continue;
    }
    archive_entry_set_pathname(e, name.c_str());
    if (const char* link = archive_entry_hardlink(e)) {
      std::string target = normalize_entry_name(link);
      if (target.empty()) throw UserError(what + ": unsafe hard link target in layer: " + link);
      archive_entry_set_hardlink(e, target.c_str());
      ++stats.hardlinks;
    } else {
      switch (archive_entry_filetype(e)) {
        case AE_IFREG: ++stats.files; stats.unpacked_bytes += static_cast<uint64_t>(archive_entry_size(e)); break;
        case AE_IFDIR: ++stats.dirs; break;
        case AE_IFLNK: ++stats.symlinks; break;
        default: break;
      }
    }
    if (archive_write_header(out.get(), e) < ARCHIVE_WARN) {
      throw UserError(what + ": cannot unpack " + name + ": " + archive_error(out.get()));
    }
    if (archive_entry_size(e) > 0 && archive_entry_hardlink(e) == nullptr) {
      const void* buf;
      size_t size;
      la_int64_t offset;
      for (;;) {
        int d = archive_read_data_block(in.get(), &buf, &size, &offset);
        if (d == ARCHIVE_EOF) break;
        if (d < ARCHIVE_WARN) throw UserError(what + ": broken tar data in " + name + ": " + archive_error(in.get()));
        if (archive_write_data_block(out.get(), buf, size, offset) < ARCHIVE_WARN) {
          throw UserError(what + ": cannot write " + name + ": " + archive_error(out.get()));
        }
      }
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN) {
      throw UserError(what + ": cannot finish " + name + ": " + archive_error(out.get()));
    }
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) {
    throw UserError(what + ": cannot finish unpacking: " + archive_error(out.get()));
  }
  return stats;
}

nlohmann::json stats_json(const LayerStats& s) {
  return {{"files", s.files},         {"dirs", s.dirs},           {"symlinks", s.symlinks},
          {"hardlinks", s.hardlinks}, {"whiteouts", s.whiteouts}, {"opaque_dirs", s.opaque_dirs},
          {"unpacked_bytes", s.unpacked_bytes}};
}

std::optional<LayerStats> read_stats(const std::string& file) {
  auto text = read_text_file(file);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  LayerStats s;
  try {
    s.files = j.at("files").get<uint64_t>();
    s.dirs = j.at("dirs").get<uint64_t>();
    s.symlinks = j.at("symlinks").get<uint64_t>();
    s.hardlinks = j.at("hardlinks").get<uint64_t>();
    s.whiteouts = j.at("whiteouts").get<uint64_t>();
    s.opaque_dirs = j.at("opaque_dirs").get<uint64_t>();
    s.unpacked_bytes = j.at("unpacked_bytes").get<uint64_t>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  return s;
}

UnpackedLayer unpack_one(const Image& img, const Layer& layer, const std::string& dir) {
  const std::string hex = digest_hex(layer.digest);
  UnpackedLayer u;
  u.digest = layer.digest;
  u.dir = dir + "/" + hex;
  const std::string stats_file = u.dir + ".json";
  struct stat st {};
  if (::stat(u.dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    if (auto s = read_stats(stats_file)) {
      u.stats = *s;
      return u;
    }
    remove_tree(u.dir);  // a crash between rename and the stats file
  }
  const std::string what = img.source.path() + ": layer " + layer.digest;
  const std::string tmp = dir + "/.tmp-" + hex + "-" + std::to_string(::getpid());
  TempPaths temps;
  temps.add(tmp + ".blob");
  temps.add(tmp);
  {
    UniqueFd fd = open_or_throw(tmp + ".blob", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::string got = img.source.copy_to(layer.blob, fd.get());
    if (layer.digest_is_uncompressed) got = uncompressed_digest(tmp + ".blob", what);
    if (got != layer.digest) throw UserError(what + " does not match its content (" + got + ")");
  }
  remove_tree(tmp);
  if (::mkdir(tmp.c_str(), 0755) != 0) throw_sys("mkdir", tmp);
  {
    Chdir in(tmp);
    u.stats = extract(tmp + ".blob", what);
  }
  if (::rename(tmp.c_str(), u.dir.c_str()) != 0) {
    if (errno != ENOTEMPTY && errno != EEXIST) throw_sys("rename", tmp);
  }
  write_file_atomic(stats_file, stats_json(u.stats).dump() + "\n");
  u.unpacked_now = true;
  return u;
}

}  // namespace

std::string cache_root() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/coldstart";
  const char* home = std::getenv("HOME");
  if (home == nullptr || home[0] != '/') throw UserError("no cache directory: set XDG_CACHE_HOME or HOME");
  return std::string(home) + "/.cache/coldstart";
}

std::vector<UnpackedLayer> unpack_layers(const Image& img) {
  const std::string dir = cache_root() + "/layers/sha256";
  mkdirs(dir, 0700);
  std::vector<UnpackedLayer> out;
  for (const auto& l : img.layers) out.push_back(unpack_one(img, l, dir));
  return out;
}

}  // namespace coldstart::image
