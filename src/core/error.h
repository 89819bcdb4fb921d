// The error model. A UserError is fatal for the command: main() catches it once,
// prints "coldstart: error: <what>" on stderr and exits 2. Library code throws
// it; it never calls exit(). Recoverable failures use Result<T> (result.h).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace coldstart {

/// A fatal error caused by the user's input or environment, reported in one line.
class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& what) : std::runtime_error(what) {}
};

/// "open /x: Permission denied" — the call, the object and strerror(err).
std::string sys_message(std::string_view call, std::string_view object, int err);

/// Throws UserError(sys_message(call, object, errno)).
[[noreturn]] void throw_sys(std::string_view call, std::string_view object);
[[noreturn]] void throw_sys(std::string_view call, std::string_view object, int err);

/// Exit codes of the command-line contract (design.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitUsage = 2;

}  // namespace coldstart
