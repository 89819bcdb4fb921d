// A command run in the background by the end-to-end tests (run, figures):
// posix_spawn with stdout/stderr in files, waited for with a timeout, and
// killed by pid and reaped if the test ends early.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

extern char** environ;

namespace coldstart::test {

using namespace std::chrono_literals;

/// A `coldstart run ...` (or any command) in the background, stderr and
/// stdout in files; killed by pid and reaped if the test ends early.
class Background {
 public:
  explicit Background(std::vector<std::string> argv) {
    out_ = dir_.path() + "/out", err_ = dir_.path() + "/err";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Background() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  void signal(int sig) { ::kill(pid_, sig); }
  /// The exit code (128+sig if killed), or nullopt if still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (!status_) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      else if (std::chrono::steady_clock::now() > end) return std::nullopt;
      else std::this_thread::sleep_for(5ms);
    }
    return status_;
  }
  /// Waits until stderr contains `needle` (or the timeout passes).
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout = 10s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (err().find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  std::string err() const { return read_text(err_); }
  std::string out() const { return read_text(out_); }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::string out_, err_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace coldstart::test
