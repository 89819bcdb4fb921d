// What the watch end-to-end tests share: owners of the processes and cgroups
// they start (killed, reaped and removed on destruction, also when an
// assertion fails) and small waits and readers.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "test_util.h"

extern char** environ;

namespace coldstart::test::watch_e2e {

using Clock = std::chrono::steady_clock;
using Env = std::vector<std::string>;

/// A child process we started; killed (SIGKILL) and reaped on destruction
/// unless stop() already reaped it.
class Child {
  /// What the vfork child does, prepared in the parent (the child only makes system calls).
  struct Plan {
    const char* out;    // stdout and stderr
    const char* procs;  // cgroup.procs to join, or nullptr
    char** args;
    char** envp;
  };
  [[noreturn]] static void exec_child(const Plan* p) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (p->procs != nullptr) {
      int fd = ::open(p->procs, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, "0", 1) < 0) _exit(126);
      ::close(fd);
    }
    int out = ::open(p->out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execve(p->args[0], p->args, p->envp);
    _exit(127);
  }

 public:
  Child() = default;
  /// Starts `argv` (an absolute path) with `env` added; stdout/stderr to `log` (or /dev/null).
  /// `cgroup_procs`: a cgroup.procs file the child writes itself into ("0") before exec.
  /// vfork, as posix_spawn and Go's os/exec start programs: no copy of this (large) test
  /// process's address space for the exec to tear down, so the start costs what a service
  /// manager's does. Everything the child needs is built before; it makes system calls only.
  Child(const std::vector<std::string>& argv, const Env& env, const std::string& log,
        const std::string& cgroup_procs = "") {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv = *e;
      bool overridden = std::any_of(env.begin(), env.end(), [&](const std::string& o) {
        return o.substr(0, o.find('=') + 1) == kv.substr(0, kv.find('=') + 1);
      });
      if (!overridden) env_strings.push_back(kv);
    }
    env_strings.insert(env_strings.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (const std::string& kv : env_strings) envp.push_back(const_cast<char*>(kv.c_str()));
    envp.push_back(nullptr);
    Plan plan{log.empty() ? "/dev/null" : log.c_str(), cgroup_procs.empty() ? nullptr : cgroup_procs.c_str(),
              args.data(), envp.data()};
    pid_ = ::vfork();
    if (pid_ == 0) exec_child(&plan);
    if (pid_ < 0) std::abort();
  }
  Child(Child&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
  Child& operator=(Child&& o) noexcept {
    std::swap(pid_, o.pid_);
    return *this;
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  /// After the caller reaped it itself.
  void forget() { pid_ = -1; }
  /// Sends `sig` (0: none), waits up to `timeout_s` (then SIGKILL), reaps; returns the wait status.
  int stop(int sig, double timeout_s = 10) {
    if (pid_ <= 0) return -1;
    if (sig != 0) ::kill(pid_, sig);
    int status = 0;
    auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

inline bool put_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

inline bool wait_for(const std::function<bool()>& ok, double timeout_s) {
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (Clock::now() < deadline) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return ok();
}

/// `coldstart watch ARGS` (a shell command line) with its stdout in `out`
/// and its stderr in `err`; the shell execs the agent, so the pid is the agent's.
inline Child agent_with_stdout(const std::string& args, const std::string& out, const std::string& err) {
  return Child({"/bin/sh", "-c", "exec " + coldstart_binary() + " watch " + args + " >" + out + " 2>" + err}, {}, "");
}

/// Waits until the agent writing its log to `log` says it has attached its
/// programs (its "attached" line), at most `timeout_s`.
inline bool agent_attached(const std::string& log, double timeout_s = 20) {
  return wait_for([&] { return read_text(log).find("attached") != std::string::npos; }, timeout_s);
}

/// One service start the way a service manager makes it: a fresh cgroup
/// <parent>/<name>, a child that joins it and execs. Stopping kills the
/// cgroup (cgroup.kill), reaps the child, waits until the cgroup is empty and
/// removes it.
class ManagedStart {
 public:
  ManagedStart(const std::string& parent, const std::string& name, const std::vector<std::string>& argv,
               const Env& env)
      : path_(parent + "/" + name) {
    made_ = ::mkdir(path_.c_str(), 0755) == 0;
    if (made_) child_ = Child(argv, env, "", path_ + "/cgroup.procs");
  }
  ~ManagedStart() { stop(); }
  bool made() const { return made_; }
  pid_t pid() const { return child_.pid(); }
  /// Waits for the child to exit by itself (killed after `timeout_s`); its wait status.
  int wait_exit(double timeout_s) { return child_.stop(0, timeout_s); }
  int stop() {
    if (!made_) return -1;
    put_file(path_ + "/cgroup.kill", "1");
    int status = child_.stop(SIGKILL);
    wait_for([&] { return read_text(path_ + "/cgroup.events").find("populated 0") != std::string::npos; }, 5);
    wait_for([&] { return ::rmdir(path_.c_str()) == 0 || errno == ENOENT; }, 5);
    made_ = false;
    return status;
  }

 private:
  std::string path_;
  bool made_ = false;
  Child child_;
};

/// The records of an event log (one JSON object per line).
inline std::vector<nlohmann::json> read_records(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_text(path));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

/// The first record of an event log for which `match` holds; null if none.
inline nlohmann::json first_record(const std::string& path, const std::function<bool(const nlohmann::json&)>& match) {
  for (const auto& r : read_records(path))
    if (match(r)) return r;
  return nlohmann::json();
}

inline double median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

inline bool is_root_with_bpf() { return ::geteuid() == 0; }

}  // namespace coldstart::test::watch_e2e
