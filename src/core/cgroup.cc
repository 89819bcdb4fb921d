// cgroup hierarchies and launch cgroup directories.
//
// Kernel facts relied on:
//  * /proc/self/mounts lists each hierarchy: type "cgroup2" for the unified
//    one, type "cgroup" with the controller names among the mount options for
//    the v1 ones. A hybrid machine (this one) has v1 controllers and an empty
//    v2 at /sys/fs/cgroup/unified.
//  * A cgroup directory's inode number is its kernfs node id, which is the
//    64-bit cgroup id BPF helpers return.
//  * A cgroup can be removed with rmdir only once no task is in it; after
//    SIGKILL the tasks leave within milliseconds unless stuck in the kernel, so
//    removal retries with a short back-off up to a deadline.
//  * cgroup.kill (v2, Linux 5.14) SIGKILLs every task of the subtree atomically,
//    also ones forked while it runs; elsewhere we loop over cgroup.procs.
#include "core/cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <utility>

#include "core/clock.h"
#include "core/error.h"
#include "core/file.h"
#include "core/strings.h"

namespace coldstart {
namespace {

bool has_token(const std::string& csv, std::string_view token) {
  for (const auto& t : split(csv, ',')) {
    if (t == token) return true;
  }
  return false;
}

CgroupLayout detect_layout() {
  CgroupLayout layout;
  auto mounts = read_text_file("/proc/self/mounts");
  if (!mounts) return layout;
  for (const auto& line : split(*mounts, '\n')) {
    auto f = split(line, ' ');
    if (f.size() < 4) continue;
    const std::string& dir = f[1];
    const std::string& type = f[2];
    if (type == "cgroup2" && layout.v2.empty()) {
      layout.v2 = dir;
    } else if (type == "cgroup") {
      if (has_token(f[3], "cpu") && layout.v1_cpu.empty()) layout.v1_cpu = dir;
      if (has_token(f[3], "memory") && layout.v1_memory.empty()) layout.v1_memory = dir;
      if (has_token(f[3], "cpuacct") && layout.v1_cpuacct.empty()) layout.v1_cpuacct = dir;
    }
  }
  if (!layout.v2.empty()) {
    if (auto c = read_text_file(layout.v2 + "/cgroup.subtree_control")) {
      for (const auto& name : split(std::string(trim(*c)), ' ')) {
        if (!name.empty()) layout.v2_controllers.push_back(name);
      }
    }
  }
  return layout;
}

void sleep_ns(int64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  ::nanosleep(&ts, nullptr);
}

}  // namespace

bool CgroupLayout::v2_has(std::string_view controller) const {
  for (const auto& c : v2_controllers) {
    if (c == controller) return true;
  }
  return false;
}

const CgroupLayout& cgroup_layout() {
  static const CgroupLayout layout = detect_layout();
  return layout;
}

std::string next_launch_cgroup_name() {
  static std::atomic<uint64_t> counter{0};
  return std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1) + 1);
}

std::optional<uint64_t> cgroup_stat_value(std::string_view text, std::string_view key) {
  for (const auto& line : split(text, '\n')) {
    std::string_view l = line;
    if (l.size() > key.size() && l.starts_with(key) && l[key.size()] == ' ') {
      std::string_view v = trim(l.substr(key.size() + 1));
      uint64_t out = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
      if (ec == std::errc()) return out;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

CgroupDir::CgroupDir(CgroupDir&& other) noexcept { *this = std::move(other); }

CgroupDir& CgroupDir::operator=(CgroupDir&& other) noexcept {
  if (this != &other) {
    if (valid()) remove();
    path_ = std::move(other.path_);
    fd_ = std::move(other.fd_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

CgroupDir::~CgroupDir() {
  if (valid()) remove();
}

Result<CgroupDir> CgroupDir::create(const std::string& hierarchy, const std::string& name) {
  if (hierarchy.empty()) return unexpected("no such cgroup hierarchy");
  std::string parent = hierarchy + "/coldstart";
  std::string path = parent + "/" + name;
  // The shared parent is removed by the last launch that leaves it (remove()),
  // so it may vanish between our two mkdirs: then create it again.
  for (int attempt = 0;; ++attempt) {
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) return unexpected(sys_message("mkdir", parent, errno));
    if (::mkdir(path.c_str(), 0755) == 0) break;
    if (errno != ENOENT || attempt == 3) return unexpected(sys_message("mkdir", path, errno));
  }
  CgroupDir dir;
  dir.path_ = path;
  dir.fd_.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.fd_) {
    int err = errno;
    ::rmdir(path.c_str());
    dir.path_.clear();
    return unexpected(sys_message("open", path, err));
  }
  struct stat st {};
  if (::fstat(dir.fd_.get(), &st) == 0) dir.id_ = st.st_ino;
  return dir;
}

std::vector<pid_t> CgroupDir::procs() const {
  std::vector<pid_t> out;
  auto text = read("cgroup.procs");
  if (!text) return out;
  for (const auto& line : split(*text, '\n')) {
    pid_t pid = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (ec == std::errc() && pid > 0) out.push_back(pid);
  }
  return out;
}

bool CgroupDir::populated() const {
  if (auto events = read("cgroup.events")) return cgroup_stat_value(*events, "populated").value_or(0) != 0;
  return !procs().empty();
}

std::optional<std::string> CgroupDir::read(std::string_view file) const {
  return read_text_file(path_ + "/" + std::string(file));
}

Result<UniqueFd> CgroupDir::open_file(std::string_view file, int flags) const {
  UniqueFd fd(::openat(fd_.get(), std::string(file).c_str(), flags | O_CLOEXEC));
  if (!fd) return unexpected(sys_message("open", path_ + "/" + std::string(file), errno));
  return fd;
}

Result<void> CgroupDir::write(std::string_view file, std::string_view value) const {
  auto fd = open_file(file, O_WRONLY);
  if (!fd) return unexpected(fd.error());
  ssize_t n = ::write(fd->get(), value.data(), value.size());
  if (n != static_cast<ssize_t>(value.size())) {
    return unexpected(sys_message("write " + std::string(value) + " to", path_ + "/" + std::string(file), errno));
  }
  return {};
}

void CgroupDir::signal_all(int sig) const {
  for (pid_t pid : procs()) ::kill(pid, sig);
}

void CgroupDir::kill_all() const {
  if (write("cgroup.kill", "1")) return;
  signal_all(SIGKILL);
}

Result<void> CgroupDir::remove(double timeout_s) {
  if (!valid()) return {};
  const int64_t deadline = monotonic_ns() + s_to_ns(timeout_s);
  int64_t pause = 20000;
  bool killed = false;
  for (;;) {
    if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) break;
    if (errno != EBUSY) return unexpected(sys_message("rmdir", path_, errno));
    if (!killed || pause >= 1000000) kill_all(), killed = true;  // again for late forks
    if (monotonic_ns() > deadline) return unexpected(sys_message("rmdir", path_, EBUSY));
    sleep_ns(pause);
    pause = std::min<int64_t>(pause * 2, 5000000);
  }
  // Leave nothing behind: the shared "coldstart" parent goes with its last
  // child. rmdir refuses (ENOTEMPTY/EBUSY) while another launch still has one.
  ::rmdir(path_.substr(0, path_.rfind('/')).c_str());
  fd_.reset();
  path_.clear();
  return {};
}

}  // namespace coldstart
