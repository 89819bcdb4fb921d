#include "launch/output_tail.h"

#include "core/strings.h"

namespace coldstart::launch {

std::string output_tails(const RunRecord& record) {
  std::string out;
  auto add = [&](const char* name, const std::string& tail) {
    std::string_view t = trim(tail);
    if (t.empty()) return;
    out += std::string(name) + " ends with:\n";
    for (const auto& line : split(t, '\n')) out += "  " + std::string(line) + "\n";
  };
  add("stdout", record.stdout_tail);
  add("stderr", record.stderr_tail);
  return out;
}

}  // namespace coldstart::launch
