// Headless Debian Chromium for the tests that check what a page shows
// (report, bench --matrix). Chromium forks zygote, GPU and renderer helpers:
// it runs in its own process group, and every path (done, timeout, test
// failure) SIGKILLs that group by the leader's pgid and reaps the leader, so
// no helper survives the test.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"

namespace coldstart::test {

inline constexpr const char* kChromium = "/usr/bin/chromium";

/// One headless Chromium invocation in its own process group, killed as a group on every path.
class Chromium {
 public:
  /// Runs Chromium with `args` on `url`, stdout to `out_path`; false on timeout or failure to start.
  bool run(const std::vector<std::string>& args, const std::string& url, const std::string& out_path,
           const std::string& profile, double timeout_s) {
    std::vector<std::string> argv = {kChromium,
                                     "--headless",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--disable-quic",
                                     "--no-first-run",
                                     "--disable-background-networking",
                                     "--disable-component-update",
                                     "--disable-sync",
                                     "--user-data-dir=" + profile,
                                     "--window-size=1400,2000"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(url);
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      ::setpgid(0, 0);
      FILE* out = std::freopen(out_path.c_str(), "w", stdout);
      FILE* err = std::freopen("/dev/null", "w", stderr);
      (void)out;
      (void)err;
      ::execv(kChromium, cargv.data());
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);  // also from the parent: no window where the group does not exist
    int64_t deadline = monotonic_ns() + static_cast<int64_t>(timeout_s * 1e9);
    while (monotonic_ns() < deadline) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        ::kill(-pid_, SIGKILL);  // helpers that outlive the browser process
        pid_ = -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;  // timed out: the destructor kills the group
  }
  ~Chromium() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

/// data-width of the element with `id` in a dumped DOM, or -1 when absent.
inline double chart_size(const std::string& dom, const std::string& id, const char* attr) {
  std::regex tag("<svg[^>]*id=\"" + id + "\"[^>]*>");
  std::smatch m;
  if (!std::regex_search(dom, m, tag)) return -1;
  std::smatch v;
  std::string t = m.str();
  if (!std::regex_search(t, v, std::regex(std::string(attr) + "=\"([0-9.]+)\""))) return 0;
  return std::stod(v[1]);
}

}  // namespace coldstart::test
