// Result<T>: the subset of std::expected<T, std::string> that we use (g++ 12 has
// no <expected> in C++20). For failures a caller may want to handle; fatal user
// errors throw UserError instead.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace coldstart {

/// The error side of a Result: a one-line human-readable reason.
struct Unexpected {
  std::string message;
};

inline Unexpected unexpected(std::string message) { return Unexpected{std::move(message)}; }

/// Either a T or the reason there is none.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Unexpected err) : v_(std::move(err)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const std::string& error() const { return std::get<1>(v_).message; }
  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Unexpected> v_;
};

/// Result<void>: success or a reason.
template <>
class Result<void> {
 public:
  Result() = default;
  Result(Unexpected err) : err_(std::move(err.message)), ok_(false) {}  // NOLINT
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const std::string& error() const { return err_; }

 private:
  std::string err_;
  bool ok_ = true;
};

}  // namespace coldstart
