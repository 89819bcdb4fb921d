#include "supervise/main_pid.h"

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <string>

#include "core/error.h"
#include "core/file.h"

namespace coldstart::supervise {

void become_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) throw_sys("prctl", "PR_SET_CHILD_SUBREAPER");
}

void reap_orphans(const std::vector<pid_t>& except) {
  // /proc/self/task/<tid>/children lists the children of each of our threads.
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr) return;
  std::vector<pid_t> children;
  while (dirent* e = ::readdir(tasks)) {
    if (e->d_name[0] == '.') continue;
    auto text = read_text_file(std::string("/proc/self/task/") + e->d_name + "/children");
    if (!text) continue;
    std::istringstream in(*text);
    for (pid_t pid; in >> pid;) children.push_back(pid);
  }
  ::closedir(tasks);
  for (pid_t pid : children) {
    if (std::find(except.begin(), except.end(), pid) != except.end()) continue;
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG);
  }
}

std::optional<FollowedMain> FollowedMain::open(pid_t pid) {
  FollowedMain m;
  m.pid_ = pid;
  m.pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!m.pidfd_) {
    if (errno == ESRCH) return std::nullopt;
    throw_sys("pidfd_open", std::to_string(pid));
  }
  return m;
}

}  // namespace coldstart::supervise
