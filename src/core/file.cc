#include "core/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "core/error.h"

namespace coldstart {

Mapping::Mapping(Mapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Mapping::~Mapping() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

Mapping Mapping::map_file(const std::string& path) {
  // O_NONBLOCK so that opening a FIFO does not wait for a writer; we refuse it below.
  UniqueFd fd = open_or_throw(path, O_RDONLY | O_NONBLOCK);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_sys("stat", path);
  if (S_ISDIR(st.st_mode)) throw UserError(path + ": is a directory");
  if (!S_ISREG(st.st_mode)) throw UserError(path + ": not a regular file");
  if (st.st_size == 0) return Mapping();
  // MAP_SHARED, not MAP_PRIVATE: while a uprobe is registered on this file
  // (a trace or watch running), the kernel writes its int3 into every new
  // private mapping that may execute (uprobe_mmap), so reading _start's code
  // through a private mapping saw 0xCC at the entry point. Shared mappings
  // are never patched; PROT_READ keeps this one read-only.
  void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) throw_sys("mmap", path);
  return Mapping(static_cast<const std::byte*>(p), static_cast<size_t>(st.st_size));
}

Result<UniqueFd> try_open(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return unexpected(sys_message("open", path, errno));
  return UniqueFd(fd);
}

UniqueFd open_or_throw(const std::string& path, int flags, mode_t mode) {
  auto fd = try_open(path, flags, mode);
  if (!fd) throw UserError(fd.error());
  return std::move(fd).value();
}

Pipe make_pipe(int extra_flags) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | extra_flags) != 0) throw_sys("pipe2", "");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::optional<std::string> read_text_file(const std::string& path) {
  auto fd = try_open(path, O_RDONLY);
  if (!fd) return std::nullopt;
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void check_output_path(const std::string& path, std::string_view option) {
  if (path.empty()) return;
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw UserError(std::string(option) + " " + path + ": directory " + dir + " does not exist");
  if (::access(dir.c_str(), W_OK) != 0)
    throw UserError(std::string(option) + " " + path + ": directory " + dir + " is not writable: " + std::strerror(errno));
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw UserError(std::string(option) + " " + path + ": is a directory");
}

namespace {

// Writes all of `data` to `fd`; errno on failure, 0 on success.
int write_all(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view data) {
  // An existing device, FIFO or socket (/dev/null, /dev/stdout, a pipe) is
  // written in place: renaming over it would replace the device node itself.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) throw UserError("write " + path + ": is a directory");
    UniqueFd fd = open_or_throw(path, O_WRONLY);
    if (int err = write_all(fd.get(), data)) throw_sys("write", path, err);
    return;
  }
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    UniqueFd fd = open_or_throw(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (int err = write_all(fd.get(), data)) {
      ::unlink(tmp.c_str());
      throw_sys("write", tmp, err);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw_sys("rename", path, err);
  }
}

}  // namespace coldstart
