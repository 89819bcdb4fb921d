#include "core/log_capture.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <mutex>

namespace coldstart {
namespace {

std::mutex g_mu;
std::string g_last;

}  // namespace

void keep_last_log_line(const char* format, va_list args) {
  char buf[512];
  int n = std::vsnprintf(buf, sizeof buf, format, args);
  std::string line(buf, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1) : 0);
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  if (line.empty()) return;
  std::lock_guard lock(g_mu);
  g_last = std::move(line);
}

std::string last_log_line() {
  std::lock_guard lock(g_mu);
  return g_last;
}

std::string bpf_failure(const char* step, int err) {
  std::string reason = std::string("BPF ") + step + ": " + std::strerror(err);
  if (err == EPERM || err == EACCES) return reason + " (needs root, or CAP_BPF and CAP_PERFMON)";
  if (std::string last = last_log_line(); !last.empty()) reason += " (libbpf: " + last + ")";
  return reason;
}

}  // namespace coldstart
