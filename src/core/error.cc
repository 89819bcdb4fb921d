#include "core/error.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace coldstart {

std::string sys_message(std::string_view call, std::string_view object, int err) {
  if (object.empty()) return fmt::format("{}: {}", call, std::strerror(err));
  return fmt::format("{} {}: {}", call, object, std::strerror(err));
}

void throw_sys(std::string_view call, std::string_view object, int err) {
  throw UserError(sys_message(call, object, err));
}

void throw_sys(std::string_view call, std::string_view object) {
  throw_sys(call, object, errno);
}

}  // namespace coldstart
