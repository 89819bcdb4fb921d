// Helpers shared by the test suites: temporary directories that remove
// themselves, fixture paths, and running the coldstart binary.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace coldstart::test {

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents on scope exit.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/coldstart-test-XXXXXX";
    char* p = mkdtemp(tmpl.data());
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a test).
inline uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

/// Whether a TCP connection to 127.0.0.1:port is accepted now.
inline bool tcp_connects(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

inline std::string fixture(const std::string& name) { return std::string(COLDSTART_FIXTURE_DIR) + "/" + name; }
inline std::string source_path(const std::string& rel) { return std::string(COLDSTART_SOURCE_DIR) + "/" + rel; }
inline std::string coldstart_binary() { return COLDSTART_BINARY; }

/// A private copy of fixture `name` in `dir` (same name, same mode): a test
/// that evicts or pages a binary must not share it with tests running in
/// parallel, which launch the shared one.
inline std::string copy_fixture(const TempDir& dir, const std::string& name) {
  std::string to = dir.path() + "/" + name;
  std::filesystem::copy_file(fixture(name), to, std::filesystem::copy_options::overwrite_existing);
  return to;
}

/// "ARGS" as a shell command line running the coldstart under test.
inline std::string cs(const std::string& args) { return coldstart_binary() + " " + args; }

/// Writes `text` to `path` (replacing it); returns `path`.
inline std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

/// `text` quoted for /bin/sh as one word.
inline std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// The whole content of a file ("" when it cannot be read).
inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Output and status of a finished command.
struct CommandResult {
  int exit_code = -1;  // -1 if killed by a signal
  std::string out;
  std::string err;
};

/// Runs `argv_line` through /bin/sh -c (test-only convenience), capturing
/// stdout and stderr into temp files.
inline CommandResult run_shell(const std::string& command) {
  TempDir dir;
  std::string out = dir.path() + "/out", err = dir.path() + "/err";
  std::string full = "(" + command + ") >" + out + " 2>" + err;
  int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

}  // namespace coldstart::test
