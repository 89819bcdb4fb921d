// A launch's captured output (see output_capture.h).
#include "launch/output_capture.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "core/error.h"
#include "core/file.h"

namespace coldstart::launch {
namespace {

constexpr size_t kTailBytes = 16384;
constexpr size_t kMaxLineBytes = 65536;  // a longer line is tested by its first 64 KB

std::string last_lines(const std::string& text, size_t lines) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  size_t pos = end;
  for (size_t n = 0; n < lines && pos > 0; ++n) {
    size_t nl = text.rfind('\n', pos - 1);
    pos = nl == std::string::npos ? 0 : nl + 1;
    if (nl == std::string::npos) break;
    if (n + 1 < lines) pos = nl;
  }
  if (pos < end && text[pos] == '\n') ++pos;
  return text.substr(pos, end - pos);
}

}  // namespace

OutputCapture::OutputCapture(OutputMode mode, size_t tail_lines, const std::string* log_pattern)
    : mode_(mode), tail_lines_(tail_lines) {
  if (log_pattern != nullptr) pattern_.emplace(*log_pattern);
}

void OutputCapture::prepare_spawn(SpawnOptions& spawn) {
  dev_null_ = open_or_throw("/dev/null", O_RDWR);
  spawn.stdin_fd = dev_null_.get();
  if (mode_ == OutputMode::kCapture) {
    for (int i = 0; i < 2; ++i) {
      Pipe p = make_pipe();
      ::fcntl(p.read_end.get(), F_SETFL, O_NONBLOCK);
      read_[i] = std::move(p.read_end);
      write_[i] = std::move(p.write_end);
    }
    spawn.stdout_fd = write_[0].get();
    spawn.stderr_fd = write_[1].get();
  } else if (mode_ == OutputMode::kDiscard) {
    spawn.stdout_fd = spawn.stderr_fd = dev_null_.get();
  }
}

void OutputCapture::spawned() {
  write_[0].reset();
  write_[1].reset();
  dev_null_.reset();
}

void OutputCapture::watch(int epoll, uint64_t tag_stdout, uint64_t tag_stderr) {
  epoll_ = epoll;
  const uint64_t tags[2] = {tag_stdout, tag_stderr};
  for (int i = 0; i < 2; ++i) {
    if (!read_[i]) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tags[i];
    if (::epoll_ctl(epoll, EPOLL_CTL_ADD, read_[i].get(), &ev) != 0) throw_sys("epoll_ctl", "ADD");
  }
}

bool OutputCapture::on_readable(int which) {
  UniqueFd& fd = read_[which];
  std::string& line = line_[which];
  bool matched = false;
  if (!fd) return false;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) {  // EOF: stop watching, test the unterminated last line
        if (epoll_ >= 0) ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd.get(), nullptr);
        if (pattern_ && !line.empty() && pattern_->search(line)) matched = true;
        line.clear();
        fd.reset();
      }
      return matched;
    }
    std::string_view chunk(buf, static_cast<size_t>(n));
    tail_[which].append(chunk);
    if (tail_[which].size() > kTailBytes) tail_[which].erase(0, tail_[which].size() - kTailBytes);
    if (!pattern_) continue;
    for (char c : chunk) {
      if (c != '\n') {
        if (line.size() < kMaxLineBytes) line.push_back(c);
        continue;
      }
      if (!matched && pattern_->search(line)) matched = true;
      line.clear();
    }
  }
}

void OutputCapture::drain() {
  on_readable(0);
  on_readable(1);
}

std::string OutputCapture::tail(int which) const { return last_lines(tail_[which], tail_lines_); }

}  // namespace coldstart::launch
